// The exec: kernel: the kernel-process protocol's bncheck side
// (docs/protocol.md, kernels/exec_kernel.hpp).
#include "kernels/exec_kernel.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/tensor.hpp"
#include "kernels/reply.hpp"
#include "kernels/worker.hpp"

namespace bncheck::exec {
namespace {

using json = nlohmann::json;
using clock = worker::clock;

json to_json(const array_desc& d, bool with_bytes) {
  json j = {{"name", d.name}, {"dtype", std::string(to_string(d.type))}, {"shape", d.shape}};
  if (with_bytes) j["nbytes"] = d.nbytes;
  if (!d.strides.empty()) {  // an input in a storage: only ever sent to a worker that said "strides": true
    j["strides"] = d.strides;
    j["offset"] = d.offset;
  }
  return j;
}

json problem_json(const problem& p) {
  json j = {{"text", to_text(p)},
          {"op", std::string(to_string(p.op))},
          {"layout", std::string(to_string(p.lay))},
          {"data_type", std::string(to_string(p.data_type))},
          {"param_type", std::string(to_string(p.param_type))},
          {"n", p.n}, {"c", p.c}, {"d", p.d}, {"h", p.h}, {"w", p.w},
          {"eps", p.eps}, {"momentum", p.momentum},
          {"profile", std::string(to_string(p.prof))}};
  if (p.op == op_kind::merge_statistics) j["shards"] = p.shards;  // only where it means something
  json storages = json::object();  // only the data tensors with a storage, and only where one has
  for (const char* name : data_tensor_names) {
    const storage& st = storage_of(p, name);
    if (st == storage{}) continue;
    storages[name] = {{"format", std::string(to_string(format_of(p, name)))},
                      {"channels", st.channels != 0 ? st.channels : p.c},
                      {"first", st.first}};
  }
  if (!storages.empty()) j["storages"] = storages;
  return j;
}

class exec_kernel final : public kernel {
 public:
  exec_kernel(std::string name, double timeout_seconds)
      : name_(std::move(name)),
        worker_(split_command(name_.substr(5))),
        timeout_(std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(timeout_seconds))),
        hello_timeout_(std::max(timeout_, std::chrono::duration_cast<clock::duration>(std::chrono::seconds(60)))) {}

  std::string name() const override { return name_; }
  // What the last hello said: make_exec_kernel has exchanged one before the
  // kernel is returned, and a restarted worker (the same command) answers again.
  bool takes_strides() const override { return strides_; }

  // Starts the worker and exchanges hellos; throws input_error when that fails.
  void start() {
    worker_.start();
    try {
      const clock::time_point deadline = clock::now() + hello_timeout_;
      send({{"type", "hello"}, {"protocol", protocol_version}, {"bncheck", BNCHECK_VERSION}}, {}, deadline);
      strides_ = read_hello(reader(deadline), protocol_version).strides;
    } catch (const protocol_violation& f) {
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
      } catch (const protocol_violation& f) {
        return {kernel_status::error, f.what + kill_with_stderr()};
      } catch (const worker_failure& f) {
        const std::string what = failure_text(f, timeout_);  // before the kill: how it ended
        return {kernel_status::error, what + kill_with_stderr()};
      }
    });
  }

 private:
  kernel_result call(const problem& p, const kernel_io& io) {
    // The harness asks takes_strides() first; this holds if a restarted worker said otherwise.
    if (!strides_ && !dense_storage(p))
      return {kernel_status::unimplemented, "the worker did not say \"strides\": true in its hello, so it is sent "
                                            "no problem that sets a storage (x_storage ...)"};
    const clock::time_point deadline = clock::now() + timeout_;
    const int64_t id = ++next_id_;
    json inputs = json::array(), outputs = json::array();
    std::vector<std::pair<const void*, std::size_t>> payload;
    for (const io_slot& slot : io_slots(p.op)) {
      const std::string name = slot.name;
      // forward_training reads the running statistics and writes them back.
      const bool read = !slot.written || (p.op == op_kind::forward_training &&
                                          (name == "running_mean" || name == "running_var"));
      if (read) {
        // An input in a storage travels as its whole allocation, which starts
        // offset elements before the buffer's element (0, 0, 0).
        const array_desc d = describe_stored(p, name);
        const auto* start = static_cast<const char*>(io_buffer(io, d.name)) -
                            d.offset * static_cast<int64_t>(size_of(d.type));
        inputs.push_back(to_json(d, true));
        payload.emplace_back(start, d.nbytes);
      }
      // Outputs travel dense in p.lay; read_answer puts them into their storage.
      if (slot.written) outputs.push_back(to_json(describe(p, name), false));
    }
    send({{"type", "run"}, {"id", id}, {"problem", problem_json(p)}, {"inputs", inputs}, {"outputs", outputs}},
         payload, deadline);

    return read_answer(reader(deadline), id, p, io);
  }

  // The worker's output as read_hello and read_answer read it, until deadline.
  read_fn reader(clock::time_point deadline) {
    return [this, deadline](void* dst, std::size_t n) { worker_.read_exact(dst, n, deadline); };
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
  bool strides_ = false;  ///< the last hello's "strides"
};

}  // namespace

bool is_exec_kernel(const std::string& name) { return name.rfind("exec:", 0) == 0; }

std::unique_ptr<kernel> make_exec_kernel(const std::string& name, double timeout_seconds) {
  auto k = std::make_unique<exec_kernel>(name, timeout_seconds);
  k->start();
  return k;
}

}  // namespace bncheck::exec
