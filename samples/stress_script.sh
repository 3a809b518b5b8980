#!/bin/bash
for i in $(seq 1 20); do x=$(echo "$i" | cat | tr 0-9 a-j); done
for j in 1 2 3 4 5 6; do ( y=$(echo $j | cat); sleep 0.0$j ) & done
wait
exec /usr/bin/python3 -c "print('PYRAN')"
