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

TEST(reply, a_hello_takes_strides_only_when_it_says_strides_true) {
  const auto strides = [](const char* header) {
    memory_reader r{frame(header), {}};
    return read_hello(r.fn(), 1).strides;
  };
  EXPECT_FALSE(strides(R"({"type": "hello", "protocol": 1})"));
  EXPECT_FALSE(strides(R"({"type": "hello", "protocol": 1, "strides": false})"));
  EXPECT_TRUE(strides(R"({"type": "hello", "protocol": 1, "strides": true})"));
  for (const char* header : {R"({"type": "hello", "protocol": 1, "strides": 1})",
                             R"({"type": "hello", "protocol": 1, "strides": "true"})"}) {
    memory_reader r{frame(header), {}};
    EXPECT_NE(violation([&] { read_hello(r.fn(), 1); }).find("\"strides\" that is not true or false"), std::string::npos)
        << header;
  }
}

TEST(reply, an_input_in_a_storage_travels_whole_with_strides_in_the_layouts_memory_order) {
  // nhwc problem, x in nchw: shape stays [N, H, W, C]; strides are nchw's.
  const problem a = parse_problem("backward nhwc f32:f32 mb2ic3ih3iw4 x_storage=nchw");
  const array_desc x = describe_stored(a, "x");
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 3, 4, 3}));
  EXPECT_EQ(x.strides, (std::vector<int64_t>{36, 4, 1, 12}));
  EXPECT_EQ(x.offset, 0);
  EXPECT_EQ(x.nbytes, 72u * 4);
  EXPECT_TRUE(describe_stored(a, "dy").strides.empty());  // no storage: as today
  EXPECT_EQ(describe_stored(a, "dy").nbytes, 72u * 4);
  // Channels 1..3 of a 6-channel nchw tensor: the allocation is the whole tensor.
  const problem b = parse_problem("forward_training nchw f32:f32 mb2ic3ih3iw3 x_storage=nchw,slice=1/6");
  const array_desc s = describe_stored(b, "x");
  EXPECT_EQ(s.shape, (std::vector<int64_t>{2, 3, 3, 3}));
  EXPECT_EQ(s.strides, (std::vector<int64_t>{54, 9, 3, 1}));
  EXPECT_EQ(s.offset, 9);
  EXPECT_EQ(s.nbytes, 108u * 4);
  // ndhwc problem, x a slice of an ncdhw tensor; nc, a slice.
  const array_desc d = describe_stored(parse_problem("backward ndhwc f16:f32 mb2ic3id2ih1iw2 x_storage=ncdhw,slice=2/7"), "x");
  EXPECT_EQ(d.strides, (std::vector<int64_t>{28, 2, 2, 1, 4}));
  EXPECT_EQ(d.offset, 8);
  EXPECT_EQ(d.nbytes, 56u * 2);
  const array_desc n = describe_stored(parse_problem("backward nc f32:f32 mb5ic3 dy_storage=nc,slice=2/5"), "dy");
  EXPECT_EQ(n.strides, (std::vector<int64_t>{5, 1}));
  EXPECT_EQ(n.offset, 2);
  EXPECT_EQ(n.nbytes, 25u * 4);
}

TEST(reply, an_output_in_a_storage_is_scattered_there_and_its_padding_is_untouched) {
  // y is channels 2..4 of a 5-channel nhwc tensor; the answer's y is dense nhwc.
  const problem p = parse_problem("forward_inference nhwc f32:f32 mb2ic3ih1iw2 y_storage=nhwc,slice=2/5");
  const placement g = placement_of(p, "y");
  std::vector<float> allocation(static_cast<std::size_t>(g.span), -7.75f);
  std::map<std::string, std::vector<char>> others;
  const kernel_io io = bind_io(p.op, [&](const std::string& name) -> void* {
    if (name == "y") return allocation.data() + g.offset;
    return others.emplace(name, std::vector<char>(describe(p, name).nbytes)).first->second.data();
  });
  std::vector<float> dense(12);
  for (int k = 0; k < 12; ++k) dense[static_cast<std::size_t>(k)] = static_cast<float>(k);
  memory_reader r{frame(R"({"type":"done","id":2,"outputs":[{"name":"y","dtype":"f32","shape":[2,1,2,3],"nbytes":48}]})",
                        std::string(reinterpret_cast<const char*>(dense.data()), 48)),
                  {}};
  ASSERT_EQ(read_answer(r.fn(), 2, p, io).status, kernel_status::ok);
  // Position (i, s) holds channels 0..4 at 5*(2*i + s) ..; y's channel ch is channel 2 + ch.
  for (int pos = 0; pos < 4; ++pos)
    for (int ch = 0; ch < 5; ++ch) {
      const float got = allocation[static_cast<std::size_t>(5 * pos + ch)];
      if (ch < 2) EXPECT_EQ(got, -7.75f) << pos << " " << ch;
      else EXPECT_EQ(got, static_cast<float>(3 * pos + ch - 2)) << pos << " " << ch;
    }
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
