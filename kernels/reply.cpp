// The worker's side of each exchange as bncheck reads it: frame headers, the
// hello, and answers with their payload (kernels/reply.hpp).
#include "kernels/reply.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

#include "core/dtype.hpp"
#include "core/tensor.hpp"

namespace bncheck::exec {
namespace {

using json = nlohmann::json;

std::string shape_text(const array_desc& d) {
  std::string s = std::string(to_string(d.type)) + " [";
  for (std::size_t i = 0; i < d.shape.size(); ++i) s += (i ? "," : "") + std::to_string(d.shape[i]);
  return s + "]";
}

std::string printable(const void* data, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char ch = static_cast<const unsigned char*>(data)[i];
    s += ch >= 32 && ch < 127 ? std::string(1, static_cast<char>(ch))
                              : "\\x" + std::string(1, "0123456789abcdef"[ch >> 4]) + "0123456789abcdef"[ch & 15];
  }
  return s;
}

// A header's value as text for a message: JSON, cut to 200 bytes.
std::string excerpt(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 200);
}

// The string at key, or "" when the key is absent or not a string.
std::string string_or_empty(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string string_field(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string("(no ") + key + ")";
}

json read_header(const read_fn& read) {
  unsigned char length[4];
  read(length, 4);
  const uint32_t n = uint32_t{length[0]} | uint32_t{length[1]} << 8 | uint32_t{length[2]} << 16 |
                     uint32_t{length[3]} << 24;
  if (n == 0 || n > max_header_bytes)
    throw protocol_violation{"worker sent garbage: a frame header of " + std::to_string(n) +
                             " bytes (the first bytes read: " + printable(length, 4) + ")"};
  std::string text(n, '\0');
  read(text.data(), n);
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw protocol_violation{"worker sent garbage: a header that is not a JSON object: " +
                             printable(text.data(), std::min<std::size_t>(n, 80))};
  return j;
}

// The outputs a "done" answer lists, checked against the request's wanted
// outputs of p, in payload order; and its not_produced names.
struct listed_outputs {
  std::vector<array_desc> arrays;
  std::vector<std::string> not_produced;
  std::size_t total = 0;
};

listed_outputs check_outputs(const json& answer, const problem& p, const std::vector<array_desc>& wanted) {
  listed_outputs out;
  const auto outs_at = answer.find("outputs");
  const json outs = outs_at != answer.end() ? *outs_at : json::array();
  if (!outs.is_array()) throw protocol_violation{"worker sent garbage: 'outputs' is not an array"};
  if (const auto np = answer.find("not_produced"); np != answer.end()) {
    if (!np->is_array()) throw protocol_violation{"worker sent garbage: 'not_produced' is not an array"};
    for (const json& n : *np) {
      if (!n.is_string()) throw protocol_violation{"worker sent garbage: 'not_produced' holds a non-string"};
      out.not_produced.push_back(n.get<std::string>());
    }
  }
  for (const json& o : outs)
    if (!o.is_object() || !o.contains("nbytes") || !o["nbytes"].is_number_unsigned())
      throw protocol_violation{"worker sent garbage: an output without nbytes"};
  std::set<std::string> seen;
  for (const json& o : outs) {
    const std::string name = string_or_empty(o, "name");
    const std::size_t nbytes = o["nbytes"].get<std::size_t>();
    const auto w = std::find_if(wanted.begin(), wanted.end(), [&](const array_desc& d) { return d.name == name; });
    if (w == wanted.end())
      throw protocol_violation{"worker returned '" + name + "', which is not an output of " +
                               std::string(to_string(p.op))};
    if (!seen.insert(name).second) throw protocol_violation{"worker returned " + name + " twice"};
    array_desc got{name, w->type, {}, nbytes};
    try {
      got.type = parse_dtype(string_or_empty(o, "dtype"));
      got.shape = o.at("shape").get<std::vector<int64_t>>();
    } catch (const std::exception&) {
      throw protocol_violation{"worker returned " + name + " with a malformed dtype or shape: " + excerpt(o)};
    }
    if (got.type != w->type || got.shape != w->shape || nbytes != w->nbytes)
      throw protocol_violation{"worker returned " + name + " as " + shape_text(got) + " (" + std::to_string(nbytes) +
                               " bytes), expected " + shape_text(*w) + " (" + std::to_string(w->nbytes) + " bytes)"};
    out.arrays.push_back(got);
    out.total += nbytes;
  }
  for (const std::string& n : out.not_produced) {
    if (!optional_output(p.op, n))
      throw protocol_violation{"worker declared '" + n + "' not produced; only forward training's mean, var, "
                               "invstd, running_mean and running_var may be"};
    if (seen.count(n)) throw protocol_violation{"worker returned " + n + " and declared it not produced"};
  }
  for (const array_desc& d : wanted)
    if (!seen.count(d.name) &&
        std::find(out.not_produced.begin(), out.not_produced.end(), d.name) == out.not_produced.end())
      throw protocol_violation{"worker returned no " + d.name + " (and did not declare it not produced)"};
  return out;
}

}  // namespace

array_desc describe(const problem& p, const std::string& name) {
  array_desc d{name, type_of(p, name), shape_of(p, name), 0};
  int64_t count = 1;
  for (int64_t e : d.shape) count *= e;
  d.nbytes = static_cast<std::size_t>(count) * size_of(d.type);
  return d;
}

array_desc describe_stored(const problem& p, const std::string& name) {
  array_desc d = describe(p, name);
  if (!is_data_tensor(name) || storage_of(p, name) == storage{}) return d;
  const placement g = placement_of(p, name);
  // One stride per letter of the layout's name, which is its memory order.
  for (const char axis : std::string(to_string(p.lay))) {
    switch (axis) {
      case 'n': d.strides.push_back(g.n_stride); break;
      case 'c': d.strides.push_back(g.c_stride); break;
      case 'd': d.strides.push_back(g.s_stride * p.h * p.w); break;
      case 'h': d.strides.push_back(g.s_stride * p.w); break;
      case 'w': d.strides.push_back(g.s_stride); break;
    }
  }
  d.offset = g.offset;
  d.nbytes = static_cast<std::size_t>(g.span) * size_of(d.type);
  return d;
}

hello_reply read_hello(const read_fn& read, int version) {
  const json hello = read_header(read);
  const std::string type = string_or_empty(hello, "type");
  if (type == "error") throw protocol_violation{"refused the hello: " + string_field(hello, "message")};
  const auto protocol = hello.find("protocol");
  if (type != "hello" || protocol == hello.end() || !protocol->is_number_integer())
    throw protocol_violation{"answered the hello with " + excerpt(hello)};
  if (*protocol != version)
    throw protocol_violation{"speaks protocol " + protocol->dump() + "; this bncheck speaks " +
                             std::to_string(version)};
  hello_reply reply;
  if (const auto strides = hello.find("strides"); strides != hello.end()) {
    if (!strides->is_boolean())
      throw protocol_violation{"answered the hello with \"strides\" that is not true or false: " + excerpt(hello)};
    reply.strides = strides->get<bool>();
  }
  return reply;
}

kernel_result read_answer(const read_fn& read, int64_t id, const problem& p, const kernel_io& io) {
  const json answer = read_header(read);
  const std::string type = string_or_empty(answer, "type");
  if (type != "done" && type != "unimplemented" && type != "error")
    throw protocol_violation{"worker answered out of turn: a '" + type +
                             "' message where done, unimplemented or error was due"};
  const auto answered = answer.find("id");
  if (answered == answer.end() || *answered != id)
    throw protocol_violation{"worker answered out of turn: id " +
                             (answered != answer.end() ? excerpt(*answered) : std::string("none")) + " to request " +
                             std::to_string(id)};
  if (type == "unimplemented") return {kernel_status::unimplemented, string_field(answer, "reason")};
  if (type == "error") return {kernel_status::error, string_field(answer, "message")};

  std::vector<array_desc> wanted;
  for (const io_slot& slot : io_slots(p.op))
    if (slot.written) wanted.push_back(describe(p, slot.name));
  const listed_outputs listed = check_outputs(answer, p, wanted);
  // The payload is read whole before anything is written into io.
  std::vector<char> bytes(listed.total);
  read(bytes.data(), bytes.size());
  std::size_t at = 0;
  for (const array_desc& d : listed.arrays) {
    auto* to = static_cast<char*>(io_output(io, d.name));
    if (is_data_tensor(d.name) && !(storage_of(p, d.name) == storage{})) {
      // Dense in p.lay on the wire; into its storage element by element, so
      // that nothing between the elements (the padding) is written.
      const auto size = static_cast<int64_t>(size_of(d.type));
      for_each_element(p, placement_of(p, d.name), [&](int64_t to_at, int64_t k) {
        std::memcpy(to + to_at * size, bytes.data() + at + k * size, static_cast<std::size_t>(size));
      });
    } else {
      std::memcpy(to, bytes.data() + at, d.nbytes);
    }
    at += d.nbytes;
  }
  return {kernel_status::ok, {}, listed.not_produced};
}

}  // namespace bncheck::exec
