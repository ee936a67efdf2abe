// Fuzz target: what bncheck reads back from a C plugin (abi/loader.cpp,
// include/bncheck/bncheck_kernel.h): the function table it hands out (sizes,
// versions, name, which functions are there), the statuses and message
// buffers of create and batch_norm, the not_produced bits and the outputs.
// The plugin is a fake whose every answer the fuzzed bytes choose; its
// outcome on a real case is rendered by every report.
#include <cstring>
#include <fstream>

#include "abi/loader.hpp"
#include "check/gate.hpp"
#include "check/harness.hpp"
#include "fuzz/fuzz.hpp"
#include "report/report.hpp"
#include "report/terminal.hpp"

using namespace bncheck;

namespace {

// What the fake plugin answers, set from each input.
struct script {
  bnc_status create_status = BNC_OK;
  bnc_status run_status = BNC_OK;
  std::string_view create_message, run_message, output_bytes;
  uint32_t not_produced = 0;
  uintptr_t instance = 0;
} answer;

test_case the_case;
std::ofstream null_stream;

// Writes text into a message buffer as a careless plugin might: up to the
// capacity, with no terminating NUL when it fills the buffer.
void write_message(char* message, std::size_t capacity, std::string_view text) {
  std::memcpy(message, text.data(), std::min(capacity, text.size()));
  if (text.size() < capacity) message[text.size()] = '\0';
}

bnc_status fake_create(void** instance, char* message, std::size_t capacity) {
  write_message(message, capacity, answer.create_message);
  if (answer.create_status == BNC_OK) *instance = reinterpret_cast<void*>(answer.instance);
  return answer.create_status;
}

void fake_destroy(void*) {}

void fill_output(const DLTensor* t) {
  if (t == nullptr || answer.output_bytes.empty()) return;
  std::size_t n = t->dtype.bits / 8;
  for (int k = 0; k < t->ndim; ++k) n *= static_cast<std::size_t>(t->shape[k]);
  auto* dst = static_cast<char*>(t->data) + t->byte_offset;
  for (std::size_t i = 0; i < n; ++i) dst[i] = answer.output_bytes[i % answer.output_bytes.size()];
}

bnc_status fake_batch_norm(void*, const bnc_batch_norm_args* args, char* message, std::size_t capacity) {
  for (const DLTensor* t : {args->y, args->dx, args->mean, args->var, args->invstd, args->running_mean,
                            args->running_var, args->dgamma, args->dbeta})
    fill_output(t);
  if (BNC_HAS_FIELD(args, bnc_batch_norm_args, not_produced) && args->not_produced != nullptr)
    *args->not_produced = answer.not_produced;
  write_message(message, capacity, answer.run_message);
  return answer.run_status;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  the_case = make_case(parse_problem("forward_training nchw f32:f32 mb2ic2ih1iw2 seed=3"));
  the_case.name = "fuzz_case";
  null_stream.open("/dev/null");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  bnc_kernel_api api{};
  const uint8_t layout = in.byte();
  switch (layout & 3) {
    case 0: api.struct_size = sizeof api; break;
    case 1: api.struct_size = BNC_KERNEL_API_SIZE_1_0; break;
    case 2: api.struct_size = in.integer<uint64_t>(); break;
    default: api.struct_size = in.byte(); break;
  }
  api.major_version = layout & 4 ? in.integer<uint32_t>() : BNC_API_MAJOR;
  api.minor_version = in.integer<uint32_t>();
  const std::string name(in.short_string());  // a C string: NUL-terminated, as the header requires
  api.name = layout & 8 ? nullptr : name.c_str();
  api.create = layout & 16 ? nullptr : fake_create;
  api.destroy = layout & 32 ? nullptr : fake_destroy;
  api.batch_norm = layout & 64 ? nullptr : fake_batch_norm;
  api.capabilities = layout & 128 ? BNC_CAPABILITY_STRIDES : 0;
  answer.create_status = in.integer<int32_t>() & 0x8000000f;
  answer.run_status = in.integer<int32_t>() & 0x8000000f;
  answer.not_produced = in.integer<uint32_t>();
  answer.instance = in.integer<uintptr_t>();
  answer.create_message = in.short_string();
  answer.run_message = in.short_string();
  answer.output_bytes = in.rest();

  fuzz::only_input_errors([&] {
    std::unique_ptr<abi::plugin_kernel> k = abi::adopt_plugin("fuzz_plugin.so", &api);
    fuzz::check(k->description() == (api.name ? std::string(name.c_str()) : ""), "the plugin's name reads back otherwise");
    std::vector<outcome> outcomes{judge(*k, the_case)};
    fuzz::check(outcomes.back().v != verdict::pass || answer.run_status == BNC_OK, "a failed call passed");
    if (layout & 128) return;  // the second call and the reports: half the inputs, they cost the most
    outcomes.push_back(judge(*k, the_case));  // a create that failed fails again, with its first message
    report::print_table(outcomes, k->name(), null_stream, false);
    report::print_failures(outcomes, null_stream);
    report::run_info run;
    run.kernel = k->name();
    const std::vector<report::suite> suites{{"fuzz", outcomes}};
    report::junit_xml(run, suites);
    report::json_report(run, suites);
    report::html_report(run, suites);
  });
  return 0;
}
