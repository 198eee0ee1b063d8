//===- Trace.cpp - a Chrome trace of the trainer's run --------------------===//

#include "Trace.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <vector>

namespace dlc::rt::trace {

namespace {
struct Event {
  const char *name, *category;
  double start, end;
  int track;
  int64_t id = -1, bytes = -1, priority = -1;
};

struct Recorder {
  std::atomic<bool> on{false};
  int rank = 0;
  std::chrono::steady_clock::time_point origin;
  std::mutex mutex;
  std::vector<Event> events;
  std::vector<std::pair<const char *, double>> notes;
};

Recorder &recorder() {
  static Recorder instance;
  return instance;
}

/// The spans begun and not yet ended on this thread.
thread_local std::vector<Event> openSpans;
} // namespace

void enable(int rank) {
  Recorder &r = recorder();
  r.rank = rank;
  r.origin = std::chrono::steady_clock::now();
  r.events.reserve(1 << 16);
  r.on = true;
}

bool enabled() { return recorder().on.load(std::memory_order_relaxed); }

double now() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now() - recorder().origin)
      .count();
}

void begin(const char *name, const char *category) {
  if (enabled())
    openSpans.push_back({name, category, now(), 0.0, Compute});
}

void end() {
  if (!enabled() || openSpans.empty())
    return;
  Event event = openSpans.back();
  openSpans.pop_back();
  span(event.name, event.category, event.start, now(), Compute);
}

void span(const char *name, const char *category, double start, double end,
          Track track, int64_t id, int64_t bytes, int64_t priority) {
  Recorder &r = recorder();
  if (!enabled())
    return;
  std::lock_guard<std::mutex> lock(r.mutex);
  r.events.push_back({name, category, start, end, track, id, bytes, priority});
}

void note(const char *key, double value) {
  Recorder &r = recorder();
  if (!enabled())
    return;
  std::lock_guard<std::mutex> lock(r.mutex);
  r.notes.emplace_back(key, value);
}

std::string json() {
  Recorder &r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::string json = "{\"displayTimeUnit\":\"ms\",\"otherData\":{";
  char line[256];
  for (size_t i = 0; i < r.notes.size(); ++i) {
    std::snprintf(line, sizeof(line), "%s\"%s\":%.9g", i ? "," : "",
                  r.notes[i].first, r.notes[i].second);
    json += line;
  }
  json += "},\"traceEvents\":[\n";
  std::snprintf(line, sizeof(line),
                "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,"
                "\"args\":{\"name\":\"rank %d\"}},\n"
                "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":0,"
                "\"args\":{\"name\":\"compute\"}},\n"
                "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":1,"
                "\"args\":{\"name\":\"communication\"}}",
                r.rank, r.rank, r.rank, r.rank);
  json += line;
  for (const Event &e : r.events) {
    std::snprintf(line, sizeof(line),
                  ",\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\","
                  "\"ts\":%.3f,\"dur\":%.3f,\"pid\":%d,\"tid\":%d",
                  e.name, e.category, e.start, e.end - e.start, r.rank,
                  e.track);
    json += line;
    if (e.id >= 0) {
      std::snprintf(line, sizeof(line), ",\"args\":{\"id\":%lld",
                    static_cast<long long>(e.id));
      json += line;
      if (e.bytes >= 0) {
        std::snprintf(line, sizeof(line), ",\"bytes\":%lld",
                      static_cast<long long>(e.bytes));
        json += line;
      }
      if (e.priority >= 0) {
        std::snprintf(line, sizeof(line), ",\"priority\":%lld",
                      static_cast<long long>(e.priority));
        json += line;
      }
      json += "}";
    }
    json += "}";
  }
  json += "\n]}\n";
  return json;
}

} // namespace dlc::rt::trace
