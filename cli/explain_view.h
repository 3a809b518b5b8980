// `tracejail run --explain`: collects the events that show an escape technique or a denial (on
// the event log's writer thread) and, after the run, prints them grouped by technique with the
// technique's explanation (report/explain.h).
#pragma once

#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/event.h"
#include "report/explain.h"

namespace cli {

class ExplainView {
 public:
  // An EventLog sink.
  void operator()(const std::string& line, const nlohmann::json& record, bool in_file);
  void Add(const report::Event& event);  // the typed form of the same
  void Print(std::FILE* out) const;

 private:
  struct Group {
    const report::Technique* technique = nullptr;
    std::size_t count = 0;
    std::vector<std::string> examples;  // event lines, escaped by the tracer already
  };
  mutable std::mutex mu_;
  std::vector<Group> groups_;  // in the order first seen
  // Denials per target (path or address): dozens on one target are the signature of a race,
  // which no single event shows. Keyed by "technique-id\ttarget".
  std::map<std::string, std::size_t> attempts_;
};

}  // namespace cli
