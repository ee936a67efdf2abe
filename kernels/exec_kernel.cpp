// The exec: kernel: the kernel-process protocol's bncheck side
// (docs/protocol.md, kernels/exec_kernel.hpp).
#include "kernels/exec_kernel.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/tensor.hpp"
#include "kernels/worker.hpp"

namespace bncheck::exec {
namespace {

using json = nlohmann::json;
using clock = worker::clock;

constexpr uint32_t max_header_bytes = 16u << 20;

// What the protocol says of one tensor of problem p: its format, its shape in
// memory order, its size in bytes.
struct tensor_desc {
  std::string name;
  dtype type;
  std::vector<int64_t> shape;
  std::size_t nbytes;
};

tensor_desc describe(const problem& p, const std::string& name) {
  tensor_desc d{name, type_of(p, name), shape_of(p, name), 0};
  int64_t count = 1;
  for (int64_t e : d.shape) count *= e;
  d.nbytes = static_cast<std::size_t>(count) * size_of(d.type);
  return d;
}

json to_json(const tensor_desc& d, bool with_bytes) {
  json j = {{"name", d.name}, {"dtype", std::string(to_string(d.type))}, {"shape", d.shape}};
  if (with_bytes) j["nbytes"] = d.nbytes;
  return j;
}

json problem_json(const problem& p) {
  return {{"text", to_text(p)},
          {"op", std::string(to_string(p.op))},
          {"layout", std::string(to_string(p.lay))},
          {"data_type", std::string(to_string(p.data_type))},
          {"param_type", std::string(to_string(p.param_type))},
          {"n", p.n}, {"c", p.c}, {"d", p.d}, {"h", p.h}, {"w", p.w},
          {"eps", p.eps}, {"momentum", p.momentum},
          {"profile", std::string(to_string(p.prof))}};
}

std::string shape_text(const tensor_desc& d) {
  std::string s = std::string(to_string(d.type)) + " [";
  for (std::size_t i = 0; i < d.shape.size(); ++i) s += (i ? "," : "") + std::to_string(d.shape[i]);
  return s + "]";
}

// A failure of the worker during one call: what the case's message says.
struct call_failure {
  std::string what;
};

class exec_kernel final : public kernel {
 public:
  exec_kernel(std::string name, double timeout_seconds)
      : name_(std::move(name)),
        worker_(split_command(name_.substr(5))),
        timeout_(std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(timeout_seconds))),
        hello_timeout_(std::max(timeout_, std::chrono::duration_cast<clock::duration>(std::chrono::seconds(60)))) {}

  std::string name() const override { return name_; }

  // Starts the worker and exchanges hellos; throws input_error when that fails.
  void start() {
    worker_.start();
    try {
      const clock::time_point deadline = clock::now() + hello_timeout_;
      send({{"type", "hello"}, {"protocol", protocol_version}, {"bncheck", BNCHECK_VERSION}}, {}, deadline);
      const json hello = receive_header(deadline);
      if (hello.value("type", "") == "error")
        throw call_failure{"refused the hello: " + hello.value("message", std::string("(no message)"))};
      if (hello.value("type", "") != "hello" || !hello.contains("protocol") || !hello["protocol"].is_number_integer())
        throw call_failure{"answered the hello with " + hello.dump().substr(0, 200)};
      if (hello["protocol"] != protocol_version)
        throw call_failure{"speaks protocol " + hello["protocol"].dump() + "; this bncheck speaks " +
                           std::to_string(protocol_version)};
    } catch (const call_failure& f) {
      throw input_error(name_ + ": the worker " + f.what + kill_with_stderr());
    } catch (const worker_failure& f) {
      const std::string what = failure_text(f, hello_timeout_);  // before the kill: how it ended
      throw input_error(name_ + ": the worker did not answer the hello: " + what + kill_with_stderr());
    }
  }

  kernel_result run(const problem& p, const kernel_io& io) override {
    return error_result_of(name_, [&]() -> kernel_result {
      if (!worker_.running()) {
        try {
          start();
        } catch (const input_error& e) {
          return {kernel_status::error, std::string("could not start the worker again: ") + e.what()};
        }
      }
      try {
        return call(p, io);
      } catch (const call_failure& f) {
        return {kernel_status::error, f.what + kill_with_stderr()};
      } catch (const worker_failure& f) {
        const std::string what = failure_text(f, timeout_);  // before the kill: how it ended
        return {kernel_status::error, what + kill_with_stderr()};
      }
    });
  }

 private:
  kernel_result call(const problem& p, const kernel_io& io) {
    const clock::time_point deadline = clock::now() + timeout_;
    const int64_t id = ++next_id_;
    json inputs = json::array(), outputs = json::array();
    std::vector<std::pair<const void*, std::size_t>> payload;
    std::vector<tensor_desc> wanted;
    for (const io_slot& slot : io_slots(p.op)) {
      const tensor_desc d = describe(p, slot.name);
      // forward_training reads the running statistics and writes them back.
      const bool read = !slot.written || (p.op == op_kind::forward_training &&
                                          (d.name == "running_mean" || d.name == "running_var"));
      if (read) {
        inputs.push_back(to_json(d, true));
        payload.emplace_back(io_buffer(io, d.name), d.nbytes);
      }
      if (slot.written) {
        outputs.push_back(to_json(d, false));
        wanted.push_back(d);
      }
    }
    send({{"type", "run"}, {"id", id}, {"problem", problem_json(p)}, {"inputs", inputs}, {"outputs", outputs}},
         payload, deadline);

    const json answer = receive_header(deadline);
    const std::string type = answer.value("type", "");
    if (type != "done" && type != "unimplemented" && type != "error")
      throw call_failure{"worker answered out of turn: a '" + type + "' message where done, unimplemented or error was due"};
    if (!answer.contains("id") || answer["id"] != id)
      throw call_failure{"worker answered out of turn: id " + (answer.contains("id") ? answer["id"].dump() : "none") +
                         " to request " + std::to_string(id)};
    if (type == "unimplemented") return {kernel_status::unimplemented, string_field(answer, "reason")};
    if (type == "error") return {kernel_status::error, string_field(answer, "message")};
    return receive_outputs(p, io, answer, wanted, deadline);
  }

  kernel_result receive_outputs(const problem& p, const kernel_io& io, const json& answer,
                                const std::vector<tensor_desc>& wanted, clock::time_point deadline) {
    const json& outs = answer.contains("outputs") ? answer["outputs"] : json::array();
    if (!outs.is_array()) throw call_failure{"worker sent garbage: 'outputs' is not an array"};
    std::vector<std::string> not_produced;
    if (answer.contains("not_produced")) {
      if (!answer["not_produced"].is_array()) throw call_failure{"worker sent garbage: 'not_produced' is not an array"};
      for (const json& n : answer["not_produced"]) {
        if (!n.is_string()) throw call_failure{"worker sent garbage: 'not_produced' holds a non-string"};
        not_produced.push_back(n.get<std::string>());
      }
    }
    // The payload is read whole before anything is judged.
    std::size_t total = 0;
    for (const json& o : outs) {
      if (!o.is_object() || !o.contains("nbytes") || !o["nbytes"].is_number_unsigned())
        throw call_failure{"worker sent garbage: an output without nbytes"};
      total += o["nbytes"].get<std::size_t>();
    }
    if (total > (std::size_t{1} << 34)) throw call_failure{"worker sent garbage: outputs of " + std::to_string(total) + " bytes"};
    std::vector<char> bytes(total);
    worker_.read_exact(bytes.data(), total, deadline);

    std::set<std::string> seen;
    std::size_t at = 0;
    for (const json& o : outs) {
      const std::string name = o.value("name", "");
      const std::size_t nbytes = o["nbytes"].get<std::size_t>();
      const auto w = std::find_if(wanted.begin(), wanted.end(), [&](const tensor_desc& d) { return d.name == name; });
      if (w == wanted.end())
        throw call_failure{"worker returned '" + name + "', which is not an output of " + std::string(to_string(p.op))};
      if (!seen.insert(name).second) throw call_failure{"worker returned " + name + " twice"};
      tensor_desc got{name, w->type, {}, nbytes};
      try {
        got.type = parse_dtype(o.value("dtype", ""));
        got.shape = o.at("shape").get<std::vector<int64_t>>();
      } catch (const std::exception&) {
        throw call_failure{"worker returned " + name + " with a malformed dtype or shape: " + o.dump().substr(0, 200)};
      }
      if (got.type != w->type || got.shape != w->shape || nbytes != w->nbytes)
        throw call_failure{"worker returned " + name + " as " + shape_text(got) + " (" + std::to_string(nbytes) +
                           " bytes), expected " + shape_text(*w) + " (" + std::to_string(w->nbytes) + " bytes)"};
      std::memcpy(io_output(io, name), bytes.data() + at, nbytes);
      at += nbytes;
    }
    for (const std::string& n : not_produced) {
      if (!optional_output(p.op, n))
        throw call_failure{"worker declared '" + n + "' not produced; only forward training's mean, var, invstd, "
                           "running_mean and running_var may be"};
      if (seen.count(n)) throw call_failure{"worker returned " + n + " and declared it not produced"};
    }
    for (const tensor_desc& d : wanted)
      if (!seen.count(d.name) && std::find(not_produced.begin(), not_produced.end(), d.name) == not_produced.end())
        throw call_failure{"worker returned no " + d.name + " (and did not declare it not produced)"};
    return {kernel_status::ok, {}, not_produced};
  }

  void send(const json& header, const std::vector<std::pair<const void*, std::size_t>>& payload,
            clock::time_point deadline) {
    const std::string text = header.dump();
    const uint32_t n = static_cast<uint32_t>(text.size());
    const unsigned char length[4] = {static_cast<unsigned char>(n), static_cast<unsigned char>(n >> 8),
                                     static_cast<unsigned char>(n >> 16), static_cast<unsigned char>(n >> 24)};
    std::vector<std::pair<const void*, std::size_t>> parts = {{length, 4}, {text.data(), text.size()}};
    parts.insert(parts.end(), payload.begin(), payload.end());
    worker_.write_all(parts, deadline);
  }

  json receive_header(clock::time_point deadline) {
    unsigned char length[4];
    worker_.read_exact(length, 4, deadline);
    const uint32_t n = uint32_t{length[0]} | uint32_t{length[1]} << 8 | uint32_t{length[2]} << 16 |
                       uint32_t{length[3]} << 24;
    if (n == 0 || n > max_header_bytes)
      throw call_failure{"worker sent garbage: a frame header of " + std::to_string(n) +
                         " bytes (the first bytes read: " + printable(length, 4) + ")"};
    std::string text(n, '\0');
    worker_.read_exact(text.data(), n, deadline);
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw call_failure{"worker sent garbage: a header that is not a JSON object: " + printable(text.data(), std::min<std::size_t>(n, 80))};
    return j;
  }

  static std::string string_field(const json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string("(no ") + key + ")";
  }

  static std::string printable(const void* data, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned char ch = static_cast<const unsigned char*>(data)[i];
      s += ch >= 32 && ch < 127 ? std::string(1, static_cast<char>(ch)) : "\\x" + std::string(1, "0123456789abcdef"[ch >> 4]) + "0123456789abcdef"[ch & 15];
    }
    return s;
  }

  std::string failure_text(const worker_failure& f, clock::duration limit) {
    if (f.what == "timeout")
      return "worker did not answer within " + exact_decimal(std::chrono::duration<double>(limit).count()) + " s; killed";
    // Its output ended or its input closed: it exited or died. Wait briefly for
    // the status, so that the message says how.
    for (int i = 0; i < 100 && worker_.exit_status().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const std::string ended = worker_.exit_status();
    return ended.empty() ? "worker closed its output" : "worker " + ended;
  }

  // Kills the worker (its channel can no longer be trusted) and gives the
  // last lines of its standard error, indented, for the failure message.
  std::string kill_with_stderr() {
    worker_.kill_now();
    const std::string tail = worker_.stderr_tail();
    if (tail.empty()) return "\n  (the worker wrote nothing to its standard error)";
    std::string lines = "\n  the worker's standard error, last lines:";
    std::size_t start = 0;
    for (;;) {
      const std::size_t nl = tail.find('\n', start);
      lines += "\n    | " + tail.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (nl == std::string::npos) return lines;
      start = nl + 1;
    }
  }

  std::string name_;
  worker worker_;
  clock::duration timeout_, hello_timeout_;
  int64_t next_id_ = 0;
};

}  // namespace

bool is_exec_kernel(const std::string& name) { return name.rfind("exec:", 0) == 0; }

std::unique_ptr<kernel> make_exec_kernel(const std::string& name, double timeout_seconds) {
  auto k = std::make_unique<exec_kernel>(name, timeout_seconds);
  k->start();
  return k;
}

}  // namespace bncheck::exec
