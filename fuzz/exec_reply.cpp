// Fuzz target: a worker's replies in the kernel-process protocol
// (kernels/reply.hpp, docs/protocol.md): u32 LE header length, JSON header,
// raw arrays. The first byte chooses the hello or the answer to a request of
// one of six problems; the rest is what the worker wrote.
#include <cstring>
#include <map>
#include <vector>

#include "core/dtype.hpp"
#include "core/tensor.hpp"
#include "fuzz/fuzz.hpp"
#include "kernels/exec_kernel.hpp"
#include "kernels/reply.hpp"

using namespace bncheck;

namespace {

// The worker's output ran out: what worker::read_exact reports as a closed pipe.
struct end_of_output {};

const char* const problems[] = {
    "forward_training nchw f32:f32 mb2ic3ih1iw2",
    "forward_inference nhwc f16:f32 mb1ic2ih1iw3",
    "backward nc bf16:f64 mb3ic2",
    "forward_training ndhwc f64:f64 mb1ic1id2ih1iw1 profile=onnx",
    // Outputs in their own storage: the answer's dense arrays are scattered
    // into the allocation, around its padding.
    "backward nhwc f32:f32 mb2ic3ih1iw2 x_storage=nchw dx_storage=nhwc,slice=1/5",
    "forward_inference nchw bf16:f32 mb1ic2ih2iw1 y_storage=nhwc,slice=0/3",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const uint8_t choice = in.byte();
  std::string_view stream = in.rest();
  const exec::read_fn read = [&](void* dst, std::size_t n) {
    if (n > stream.size()) throw end_of_output{};
    std::memcpy(dst, stream.data(), n);
    stream.remove_prefix(n);
  };
  try {
    if (choice & 1) {
      exec::read_hello(read, exec::protocol_version);
      return 0;
    }
    const problem p = parse_problem(problems[(choice >> 1) % std::size(problems)]);
    std::map<std::string, std::vector<char>> buffers;
    const kernel_io io = bind_io(p.op, [&](const std::string& name) -> void* {
      // The whole allocation, the pointer at element 0 (a slice starts inside it).
      const buffer_extent e = extent_of(p, name);
      const std::size_t size = size_of(type_of(p, name));
      auto& b = buffers.emplace(name, std::vector<char>(static_cast<std::size_t>(e.count) * size)).first->second;
      return b.data() + static_cast<std::size_t>(e.before) * size;
    });
    const kernel_result r = exec::read_answer(read, 1 + (choice >> 4), p, io);
    for (const std::string& n : r.not_produced)
      fuzz::check(optional_output(p.op, n), "an answer declared " + n + " not produced");
  } catch (const exec::protocol_violation&) {
  } catch (const end_of_output&) {
  }
  return 0;
}
