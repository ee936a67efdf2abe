// The worker's frames as kernels/reply.hpp reads them, from memory: what
// fuzz/exec_reply.cpp found is refused as a protocol violation, with no
// other exception and no allocation that a size field alone asks for.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

#include "kernels/reply.hpp"

namespace bncheck::exec {
namespace {

std::string frame(const std::string& header, const std::string& payload = "") {
  const auto n = static_cast<uint32_t>(header.size());
  const char length[4] = {static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16),
                          static_cast<char>(n >> 24)};
  return std::string(length, 4) + header + payload;
}

// Reads from bytes; records the size of every read.
struct memory_reader {
  std::string bytes;
  std::vector<std::size_t> reads;
  read_fn fn() {
    return [this](void* dst, std::size_t n) {
      reads.push_back(n);
      if (n > bytes.size()) throw std::out_of_range("the worker's output ended");
      std::memcpy(dst, bytes.data(), n);
      bytes.erase(0, n);
    };
  }
};

std::string violation(const std::function<void()>& f) {
  try {
    f();
  } catch (const protocol_violation& v) {
    return v.what;
  }
  return "(no violation)";
}

TEST(reply, a_hello_whose_type_is_not_a_string_is_a_violation_not_a_json_exception) {
  for (const char* header : {R"({"type": 1, "protocol": 1})", R"({"type": ["hello"]})", R"({"type": "error", "message": 5})",
                             R"({"type": "hello", "protocol": "1"})"}) {
    memory_reader r{frame(header), {}};
    EXPECT_NE(violation([&] { read_hello(r.fn(), 1); }), "(no violation)") << header;
  }
  memory_reader ok{frame(R"({"type": "hello", "protocol": 1, "kernel": "k"})"), {}};
  EXPECT_NO_THROW(read_hello(ok.fn(), 1));
}

class answer_test : public ::testing::Test {
 protected:
  answer_test() {
    io_ = bind_io(p_.op, [&](const std::string& name) -> void* {
      return buffers_.emplace(name, std::vector<char>(describe(p_, name).nbytes)).first->second.data();
    });
  }
  problem p_ = parse_problem("forward_inference nc f32:f32 mb2ic3");
  std::map<std::string, std::vector<char>> buffers_;
  kernel_io io_;
};

TEST_F(answer_test, a_giant_nbytes_is_refused_before_any_payload_is_read) {
  memory_reader r{frame(R"({"type":"done","id":1,"outputs":[{"name":"y","dtype":"f32","shape":[2,3],"nbytes":17179869183}]})"), {}};
  EXPECT_EQ(violation([&] { read_answer(r.fn(), 1, p_, io_); }),
            "worker returned y as f32 [2,3] (17179869183 bytes), expected f32 [2,3] (24 bytes)");
  EXPECT_EQ(r.reads.size(), 2u);  // the length and the header, no payload
}

TEST_F(answer_test, fields_of_the_wrong_json_type_are_violations) {
  for (const char* header : {R"({"type": 7, "id": 1})", R"({"type":"done","id":1,"outputs":[{"name":4,"nbytes":24}]})",
                             R"({"type":"done","id":1,"outputs":[{"name":"y","dtype":[],"shape":[2,3],"nbytes":24}]})",
                             R"({"type":"done","id":1,"outputs":{}})", R"({"type":"done","id":1,"not_produced":[1]})"}) {
    memory_reader r{frame(header, std::string(24, '\0')), {}};
    EXPECT_NE(violation([&] { read_answer(r.fn(), 1, p_, io_); }), "(no violation)") << header;
  }
}

TEST_F(answer_test, a_done_answer_fills_the_outputs) {
  std::string payload(24, '\0');
  const float one = 1.0f;
  for (int k = 0; k < 6; ++k) std::memcpy(payload.data() + 4 * k, &one, 4);
  memory_reader r{frame(R"({"type":"done","id":3,"outputs":[{"name":"y","dtype":"f32","shape":[2,3],"nbytes":24}]})",
                        payload),
                  {}};
  const kernel_result got = read_answer(r.fn(), 3, p_, io_);
  EXPECT_EQ(got.status, kernel_status::ok);
  EXPECT_EQ(std::memcmp(buffers_.at("y").data(), payload.data(), 24), 0);
  memory_reader skip{frame(R"({"type":"unimplemented","id":4,"reason":"no f32"})"), {}};
  EXPECT_EQ(read_answer(skip.fn(), 4, p_, io_).message, "no f32");
}

}  // namespace
}  // namespace bncheck::exec
