// Fuzz target: a golden case's manifest.json (golden/store.hpp decode_case),
// beside the real arrays of a committed case, so that inputs that keep the
// checksums reach the checks of every array.
#include <filesystem>
#include <map>

#include "fuzz/fuzz.hpp"
#include "golden/npy.hpp"
#include "golden/store.hpp"

using namespace bncheck;
namespace fs = std::filesystem;

namespace {

constexpr const char* case_name = "profile_onnx_inference";
std::map<std::string, std::string> real_files;
std::string description;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const fs::path dir = fs::path(fuzz::source_dir()) / "golden" / "cases" / case_name;
  for (const auto& e : fs::directory_iterator(dir)) real_files[e.path().filename().string()] = read_file_bytes(e.path());
  description = read_case_description(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::map<std::string, std::string> files = real_files;
  files["manifest.json"] = std::string(reinterpret_cast<const char*>(data), size);
  fuzz::only_input_errors([&] {
    const test_case c = decode_case(fs::path("cases") / case_name, files);
    fuzz::check(c.name == case_name, "a case named otherwise than its folder was read");
    fuzz::check(encode_case(c, description).at("x.npy") == files.at("x.npy"),
                "a case read back encodes other array bytes");
  });
  return 0;
}
