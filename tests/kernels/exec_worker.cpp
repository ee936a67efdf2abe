// A worker written from docs/protocol.md alone, in C++: it answers with our
// Eigen kernel, and misbehaves on forward_training as its argument says, so
// that the tests see what bncheck does with each misbehaviour:
//   exec_worker [none|crash|abort|hang|exit|garbage|wrong_dtype|wrong_shape|
//                unknown_output|missing_output|not_produced_y|wrong_id|
//                no_var|protocol2|refuse_hello|unimplemented|error|stderr_then_crash|
//                no_strides|ignores_strides]
// It says "strides": true in its hello (except no_strides) and gathers an
// input that has strides into a dense array by them, as the protocol says
// (ignores_strides: reads the payload's first elements as if dense instead).
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "core/dtype.hpp"
#include "core/kernel.hpp"
#include "impl/eigen/eigen_kernel.hpp"

namespace {

using json = nlohmann::json;

// Dies by SIGSEGV as an uninstrumented worker would: a sanitizer runtime's
// handler (ci/sanitize) would otherwise catch it and exit with a report.
[[noreturn]] void die_by_segv() {
  std::signal(SIGSEGV, SIG_DFL);
  std::raise(SIGSEGV);
  std::abort();
}

bool read_exact(void* dst, std::size_t n) {
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t r = ::read(0, p, n);
    if (r <= 0) return false;
    p += r, n -= static_cast<std::size_t>(r);
  }
  return true;
}

void write_all(const void* src, std::size_t n) {
  const char* p = static_cast<const char*>(src);
  while (n > 0) {
    const ssize_t r = ::write(1, p, n);
    if (r <= 0) std::exit(1);
    p += r, n -= static_cast<std::size_t>(r);
  }
}

bool read_frame(json& header, std::vector<char>& payload) {
  uint32_t n = 0;
  unsigned char b[4];
  if (!read_exact(b, 4)) return false;
  n = b[0] | b[1] << 8 | b[2] << 16 | uint32_t{b[3]} << 24;
  std::string text(n, '\0');
  if (!read_exact(text.data(), n)) return false;
  header = json::parse(text);
  std::size_t total = 0;
  if (header.contains("inputs"))
    for (const json& a : header["inputs"]) total += a["nbytes"].get<std::size_t>();
  payload.resize(total);
  return read_exact(payload.data(), total);
}

void write_frame(const json& header, const std::vector<char>& payload = {}) {
  const std::string text = header.dump();
  const uint32_t n = static_cast<uint32_t>(text.size());
  const unsigned char b[4] = {static_cast<unsigned char>(n), static_cast<unsigned char>(n >> 8),
                              static_cast<unsigned char>(n >> 16), static_cast<unsigned char>(n >> 24)};
  std::vector<char> frame(b, b + 4);
  frame.insert(frame.end(), text.begin(), text.end());
  frame.insert(frame.end(), payload.begin(), payload.end());
  write_all(frame.data(), frame.size());
}

// An input with strides, dense in C order: element k (its indices in
// `shape` order) is at offset + sum(index * stride) elements into `data`.
// An element outside the payload's nbytes ends the worker (status 4).
std::vector<char> gather(const json& a, const char* data, std::size_t nbytes, bool as_if_dense) {
  const std::vector<int64_t> shape = a["shape"], strides = a["strides"];
  const std::size_t size = bncheck::size_of(bncheck::parse_dtype(a["dtype"].get<std::string>()));
  std::size_t count = 1;
  for (int64_t e : shape) count *= static_cast<std::size_t>(e);
  std::vector<char> dense(count * size);
  if (as_if_dense && dense.size() <= nbytes) {
    std::memcpy(dense.data(), data, dense.size());
    return dense;
  }
  std::vector<int64_t> index(shape.size(), 0);
  for (std::size_t k = 0; k < count; ++k) {
    int64_t element = a["offset"].get<int64_t>();
    for (std::size_t axis = 0; axis < shape.size(); ++axis) element += index[axis] * strides[axis];
    if (element < 0 || static_cast<std::size_t>(element + 1) * size > nbytes) {
      std::cerr << "exec_worker: " << a.dump() << " puts element " << k << " outside its payload" << std::endl;
      std::exit(4);
    }
    std::memcpy(dense.data() + k * size, data + static_cast<std::size_t>(element) * size, size);
    for (std::size_t axis = shape.size(); axis-- > 0;) {  // the next index, the last axis fastest
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
  return dense;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bncheck;
  const std::string mode = argc > 1 ? argv[1] : "none";
  json header;
  std::vector<char> payload;
  if (!read_frame(header, payload) || header["type"] != "hello") return 1;
  if (mode == "refuse_hello") {
    write_frame({{"type", "error"}, {"message", "this worker speaks no protocol at all"}});
    return 1;
  }
  json hello = {{"type", "hello"}, {"protocol", mode == "protocol2" ? 2 : 1}, {"kernel", "exec_worker " + mode}};
  if (mode != "no_strides") hello["strides"] = true;
  write_frame(hello);
  std::unique_ptr<kernel> k = eigen::make_eigen_kernel();
  while (read_frame(header, payload)) {
    if (header["type"] == "bye") return 0;
    // Every array in and out is dense in the layout once gathered: the
    // kernel runs on the problem without its storages.
    problem p = parse_problem(header["problem"]["text"].get<std::string>());
    for (const char* name : data_tensor_names) storage_of(p, name) = storage{};
    const bool misbehave = p.op == op_kind::forward_training;
    // The buffers: inputs from the payload, outputs NaN-filled.
    std::vector<std::pair<std::string, std::vector<char>>> buffers;
    std::size_t at = 0;
    for (const json& a : header["inputs"]) {
      const std::size_t n = a["nbytes"];
      const auto* first = payload.data() + at;
      at += n;
      if (!a.contains("strides")) {
        buffers.emplace_back(a["name"], std::vector<char>(first, first + n));
        continue;
      }
      buffers.emplace_back(a["name"], gather(a, first, n, mode == "ignores_strides"));
    }
    for (const json& o : header["outputs"]) {
      bool have = false;
      for (auto& b : buffers) have = have || b.first == o["name"];
      if (have) continue;
      std::size_t count = 1;
      for (int64_t e : o["shape"]) count *= static_cast<std::size_t>(e);
      buffers.emplace_back(o["name"], std::vector<char>(count * size_of(parse_dtype(o["dtype"].get<std::string>()))));
    }
    const kernel_io io = bind_io(p.op, [&](const std::string& name) -> void* {
      for (auto& b : buffers)
        if (b.first == name) return b.second.data();
      return nullptr;
    });
    const kernel_result r = k->run(p, io);
    if (misbehave) {
      if (mode == "crash") die_by_segv();
      if (mode == "abort") std::abort();
      if (mode == "hang") std::this_thread::sleep_for(std::chrono::hours(1));
      if (mode == "exit") std::exit(3);
      if (mode == "stderr_then_crash") {
        std::cerr << "exec_worker: about to fail on " << header["problem"]["text"].get<std::string>() << std::endl;
        die_by_segv();
      }
      if (mode == "garbage") {
        write_all("hello world, this is not a frame\n", 33);
        continue;
      }
      if (mode == "wrong_id") header["id"] = header["id"].get<int64_t>() + 100;
      if (mode == "unimplemented") {
        write_frame({{"type", "unimplemented"}, {"id", header["id"]}, {"reason", "exec_worker does no training"}});
        continue;
      }
      if (mode == "error") {
        write_frame({{"type", "error"}, {"id", header["id"]}, {"message", "exec_worker failed on purpose"}});
        continue;
      }
    }
    if (r.status != kernel_status::ok) {
      write_frame({{"type", r.status == kernel_status::unimplemented ? "unimplemented" : "error"},
                   {"id", header["id"]}, {"reason", r.message}, {"message", r.message}});
      continue;
    }
    json outputs = json::array(), not_produced = json::array();
    std::vector<char> out;
    for (json o : header["outputs"]) {
      const std::string name = o["name"];
      if (misbehave && mode == "no_var" && name == "var") {
        not_produced.push_back("var");
        continue;
      }
      if (misbehave && mode == "missing_output" && name == "invstd") continue;
      if (misbehave && mode == "not_produced_y" && name == "y") {
        not_produced.push_back("y");
        continue;
      }
      std::vector<char>* data = nullptr;
      for (auto& b : buffers)
        if (b.first == name) data = &b.second;
      if (misbehave && name == "y" && mode == "wrong_dtype") o["dtype"] = "f64";
      if (misbehave && name == "y" && mode == "wrong_shape") o["shape"] = {static_cast<int64_t>(data->size() / 4)};
      if (misbehave && name == "y" && mode == "unknown_output") o["name"] = "z";
      o["nbytes"] = data->size();
      outputs.push_back(o);
      out.insert(out.end(), data->begin(), data->end());
    }
    write_frame({{"type", "done"}, {"id", header["id"]}, {"outputs", outputs}, {"not_produced", not_produced}}, out);
  }
  return 0;
}
