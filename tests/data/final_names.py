"""final_names.py DIR: path calls whose final name the kernel treats specially (a trailing slash,
"." and ".."), in an empty DIR; prints what each did. Run natively and under tracejail, the output
must be the same: a trailing slash follows a final symlink where the name is looked up (lstat,
chmod) but not where it is made or removed (rmdir, mkdir, rename, unlink), and a final "." or
".." is refused where a name is made or removed."""
import os
import sys

base = sys.argv[1]
os.chdir(base)


def t(label, fn):
    try:
        r = fn()
        if isinstance(r, os.stat_result): r = ('ino', r.st_ino == os.stat(base + '/d').st_ino, r.st_ino == os.stat(base).st_ino)
        print(label, 'ok', r)
    except OSError as e:
        print(label, 'err', e.errno)


os.mkdir('d'); os.mkdir('d2'); open('f', 'w').close(); os.symlink(base + '/d', 'lnk')
t('lstat lnk/', lambda: os.lstat('lnk/'))
t('lstat d/.', lambda: os.lstat('d/.'))
t('lstat d/..', lambda: os.lstat('d/..'))
t('lstat lnk', lambda: ('islink', os.path.islink('lnk')))
t('rmdir lnk/', lambda: os.rmdir('lnk/'))
t('rmdir d/.', lambda: os.rmdir('d/.'))
t('rmdir d/..', lambda: os.rmdir('d/..'))
t('unlink f/', lambda: os.unlink('f/'))
t('mkdir new/', lambda: os.mkdir('new/'))
t('rename d2/ e/', lambda: os.rename('d2/', 'e/'))
t('rmdir new/', lambda: os.rmdir('new/'))
t('chmod lnk/', lambda: os.chmod('lnk/', 0o750))
t('mkdir d/..', lambda: os.mkdir('d/..'))
t('symlink x d/.', lambda: os.symlink('x', 'd/.'))
print(sorted(os.listdir('.')))
