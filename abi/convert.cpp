// problem + kernel_io <-> bnc_batch_norm_args, both directions.
#include "abi/convert.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "core/dtype.hpp"
#include "core/tensor.hpp"

namespace bncheck::abi {
namespace {

bool per_channel(const std::string& name) {
  return name != "x" && name != "dy" && name != "y" && name != "dx" && name.rfind("shard_", 0) != 0;
}

// Data tensors: the logical channel-first shape (N, C, [D,] H, W).
int data_rank(layout l) { return 2 + spatial_rank(l); }

// The shape and strides the header gives tensor `name` of p; returns
// the number of axes.
int geometry_of(const problem& p, const std::string& name, int64_t* shape, int64_t* strides) {
  if (name == "shard_count") {
    shape[0] = p.n;
    strides[0] = 1;
    return 1;
  }
  if (name == "shard_mean" || name == "shard_m2") {
    shape[0] = p.n;
    shape[1] = p.c;
    strides[0] = p.c;
    strides[1] = 1;
    return 2;
  }
  if (per_channel(name)) {
    shape[0] = p.c;
    strides[0] = 1;
    return 1;
  }
  // Dense in p.lay: bncheck_kernel.h's table; else its own storage's (1.3).
  const int rank = data_rank(p.lay);
  const int64_t all[5] = {p.n, p.c, p.d, p.h, p.w};
  shape[0] = p.n, shape[1] = p.c;
  for (int k = 2; k < rank; ++k) shape[k] = all[5 - rank + k];
  const std::vector<int64_t> from_placement = data_strides(p, name);
  std::copy(from_placement.begin(), from_placement.end(), strides);
  return rank;
}

// The storage whose strides data tensor `name` of p has (a channel slice's
// first channel is then 0: the pointer is at it), or nullopt for strides no
// storage gives.
std::optional<storage> storage_from_strides(problem p, const std::string& name, const int64_t* given) {
  const int64_t S = spatial_size(p);
  if (given[0] <= 0 || given[0] % S != 0 || given[0] / S < p.c) return std::nullopt;
  const int64_t wider = given[0] / S;
  for (layout f : {p.lay, other_format(p.lay)}) {
    storage st;
    if (f != p.lay) st.format = f;
    if (wider != p.c) st.channels = wider;
    storage_of(p, name) = st;
    int64_t shape[5], strides[5];
    const int ndim = geometry_of(p, name, shape, strides);
    if (std::equal(strides, strides + ndim, given)) return st;
  }
  return std::nullopt;
}

std::string type_text(DLDataType t) {
  return "{code " + std::to_string(t.code) + ", bits " + std::to_string(t.bits) + ", lanes " +
         std::to_string(t.lanes) + "}";
}

}  // namespace

DLDataType dl_type(dtype t) {
  switch (t) {
    case dtype::f64: return {kDLFloat, 64, 1};
    case dtype::f32: return {kDLFloat, 32, 1};
    case dtype::f16: return {kDLFloat, 16, 1};
    case dtype::bf16: return {kDLBfloat, 16, 1};
  }
  return {kDLFloat, 64, 1};
}

std::optional<dtype> from_dl_type(DLDataType t) {
  if (t.lanes != 1) return std::nullopt;
  if (t.code == kDLFloat && t.bits == 64) return dtype::f64;
  if (t.code == kDLFloat && t.bits == 32) return dtype::f32;
  if (t.code == kDLFloat && t.bits == 16) return dtype::f16;
  if (t.code == kDLBfloat && t.bits == 16) return dtype::bf16;
  return std::nullopt;
}

bnc_op to_c(op_kind op) {
  switch (op) {
    case op_kind::forward_training: return BNC_OP_FORWARD_TRAINING;
    case op_kind::forward_inference: return BNC_OP_FORWARD_INFERENCE;
    case op_kind::backward: return BNC_OP_BACKWARD;
    case op_kind::merge_statistics: return BNC_OP_MERGE_STATISTICS;
  }
  return -1;
}

bnc_layout to_c(layout l) {
  switch (l) {
    case layout::nc: return BNC_LAYOUT_NC;
    case layout::nchw: return BNC_LAYOUT_NCHW;
    case layout::nhwc: return BNC_LAYOUT_NHWC;
    case layout::ncdhw: return BNC_LAYOUT_NCDHW;
    case layout::ndhwc: return BNC_LAYOUT_NDHWC;
  }
  return -1;
}

bnc_profile to_c(profile p) {
  switch (p) {
    case profile::onnx: return BNC_PROFILE_ONNX;
    case profile::pytorch: return BNC_PROFILE_PYTORCH;
    case profile::cudnn: return BNC_PROFILE_CUDNN;
  }
  return -1;
}

const DLTensor* call_args::describe(descriptor& d, const problem& p, const std::string& name,
                                    const void* data) {
  if (data == nullptr) return nullptr;
  DLTensor& t = d.tensor;
  t.data = const_cast<void*>(data);  // DLTensor has no const data; inputs are still read-only
  t.device = {kDLCPU, 0};
  t.dtype = dl_type(type_of(p, name));
  t.byte_offset = 0;
  if (is_data_tensor(name) && !(storage_of(p, name) == storage{})) {
    // A channel slice: data at the wider tensor, byte_offset to the slice's first channel.
    t.byte_offset = static_cast<uint64_t>(placement_of(p, name).offset) * size_of(type_of(p, name));
    t.data = static_cast<char*>(t.data) - t.byte_offset;
  }
  t.ndim = geometry_of(p, name, d.shape.data(), d.strides.data());
  t.shape = d.shape.data();
  t.strides = d.strides.data();
  return &t;
}

call_args::call_args(const problem& p, const kernel_io& io) {
  args_.struct_size = sizeof(bnc_batch_norm_args);
  args_.op = to_c(p.op);
  args_.layout = to_c(p.lay);
  args_.profile = to_c(p.prof);
  args_.reserved = 0;
  args_.eps = p.eps;
  args_.momentum = p.momentum;
  args_.not_produced = &not_produced_;
  auto* d = descriptors_.data();
  args_.x = describe(d[0], p, "x", io.x);
  args_.dy = describe(d[1], p, "dy", io.dy);
  args_.gamma = describe(d[2], p, "gamma", io.gamma);
  args_.beta = describe(d[3], p, "beta", io.beta);
  args_.y = describe(d[4], p, "y", io.y);
  args_.dx = describe(d[5], p, "dx", io.dx);
  args_.mean = describe(d[6], p, "mean", io.mean);
  args_.var = describe(d[7], p, "var", io.var);
  args_.invstd = describe(d[8], p, "invstd", io.invstd);
  args_.running_mean = describe(d[9], p, "running_mean", io.running_mean);
  args_.running_var = describe(d[10], p, "running_var", io.running_var);
  args_.dgamma = describe(d[11], p, "dgamma", io.dgamma);
  args_.dbeta = describe(d[12], p, "dbeta", io.dbeta);
  args_.shard_count = describe(d[13], p, "shard_count", io.shard_count);
  args_.shard_mean = describe(d[14], p, "shard_mean", io.shard_mean);
  args_.shard_m2 = describe(d[15], p, "shard_m2", io.shard_m2);
}

namespace {

// Checks every tensor p's op reads or writes against the header (present,
// on the CPU, its type, shape and dense strides) and binds it into call.io.
void bind_buffers(problem& p, const std::map<std::string, const DLTensor*>& given, decoded_call& call) {
  std::map<std::string, void*> buffers;
  for (const io_slot& slot : io_slots(p.op)) {
    const std::string name = slot.name;
    const DLTensor* t = given.at(name);
    if (t == nullptr) throw std::invalid_argument(name + " is required by " + std::string(to_string(p.op)));
    if (t->device.device_type != kDLCPU)
      throw std::invalid_argument(name + " is not in CPU memory (device type " +
                                  std::to_string(t->device.device_type) + ")");
    if (from_dl_type(t->dtype) != type_of(p, name))
      throw std::invalid_argument(name + " has DLPack type " + type_text(t->dtype) + ", not " +
                                  std::string(to_string(type_of(p, name))));
    int64_t shape[5], strides[5];
    const int ndim = geometry_of(p, name, shape, strides);
    if (t->ndim != ndim || t->shape == nullptr || !std::equal(shape, shape + ndim, t->shape))
      throw std::invalid_argument(name + " has a shape that disagrees with " +
                                  (p.op == op_kind::merge_statistics ? "shard_mean's" : "x's"));
    if (t->strides != nullptr && !std::equal(strides, strides + ndim, t->strides)) {
      // A data tensor in its own storage (1.3): the problem says which.
      const std::optional<storage> st =
          is_data_tensor(name) ? storage_from_strides(p, name, t->strides) : std::nullopt;
      if (!st) throw unsupported_call(name + " is not dense in layout " + std::string(to_string(p.lay)) +
                                      (is_data_tensor(name) ? ", nor in a storage bncheck describes (a format of its rank, a channel slice)" : ""));
      storage_of(p, name) = *st;
    } else if (t->strides == nullptr && !per_channel(name) && channel_last(p.lay) && p.c > 1 && spatial_size(p) > 1) {
      throw unsupported_call(name + " is not dense in layout " + std::string(to_string(p.lay)));
    }
    buffers[name] = static_cast<char*>(t->data) + t->byte_offset;
  }
  try {
    validate(p);
  } catch (const std::exception& e) {
    throw std::invalid_argument(e.what());
  }
  call.io = bind_io(p.op, [&](const std::string& name) { return buffers.at(name); });
}

// MERGE_STATISTICS: the problem from shard_mean's shape and type and
// shard_count's values (header: S shards, C channels, layout NC).
void decode_shards(const bnc_batch_norm_args& a, problem& p) {
  if (a.shard_mean == nullptr || a.shard_count == nullptr || a.shard_mean->shape == nullptr ||
      a.shard_count->shape == nullptr)
    throw std::invalid_argument("shard_count and shard_mean are required by merge_statistics");
  if (a.shard_mean->ndim != 2) throw std::invalid_argument("shard_mean must have 2 axes (S, C)");
  if (p.lay != layout::nc) throw std::invalid_argument("merge_statistics takes layout NC");
  const auto param_t = from_dl_type(a.shard_mean->dtype);
  if (!param_t) throw unsupported_call("shard_mean has the unsupported DLPack type " + type_text(a.shard_mean->dtype));
  p.data_type = p.param_type = *param_t;
  p.n = a.shard_mean->shape[0];
  p.c = a.shard_mean->shape[1];
  const DLTensor& k = *a.shard_count;
  if (k.ndim != 1 || k.shape[0] != p.n || from_dl_type(k.dtype) != dtype::f64 || k.device.device_type != kDLCPU)
    throw std::invalid_argument("shard_count must be (S) float64 in CPU memory, S = shard_mean's first axis");
  const int64_t step = k.strides != nullptr ? k.strides[0] : 1;
  const char* base = static_cast<const char*>(k.data) + k.byte_offset;
  p.shards.clear();
  for (int64_t i = 0; i < p.n; ++i) {
    double v = 0;
    std::memcpy(&v, base + i * step * static_cast<int64_t>(sizeof(double)), sizeof v);
    if (!(v >= 1 && v <= 0x1p53) || v != std::floor(v))
      throw std::invalid_argument("shard_count[" + std::to_string(i) + "] is not an integer in [1, 2^53]");
    p.shards.push_back(static_cast<int64_t>(v));
  }
  try {
    validate(p);
  } catch (const std::exception& e) {
    throw std::invalid_argument(e.what());
  }
}

}  // namespace

decoded_call decode_args(const bnc_batch_norm_args& a) {
  if (a.struct_size < BNC_BATCH_NORM_ARGS_SIZE_1_0)
    throw std::invalid_argument("bnc_batch_norm_args.struct_size " + std::to_string(a.struct_size) +
                                " is smaller than version 1.0's");
  decoded_call call;
  problem& p = call.prob;
  switch (a.op) {
    case BNC_OP_FORWARD_TRAINING: p.op = op_kind::forward_training; break;
    case BNC_OP_FORWARD_INFERENCE: p.op = op_kind::forward_inference; break;
    case BNC_OP_BACKWARD: p.op = op_kind::backward; break;
    case BNC_OP_MERGE_STATISTICS:
      if (a.struct_size < BNC_BATCH_NORM_ARGS_SIZE_1_2)
        throw std::invalid_argument("MERGE_STATISTICS needs the shard tensors of version 1.2; struct_size " +
                                    std::to_string(a.struct_size) + " ends before them");
      p.op = op_kind::merge_statistics;
      break;
    default: throw unsupported_call("unknown op " + std::to_string(a.op));
  }
  switch (a.layout) {
    case BNC_LAYOUT_NC: p.lay = layout::nc; break;
    case BNC_LAYOUT_NCHW: p.lay = layout::nchw; break;
    case BNC_LAYOUT_NHWC: p.lay = layout::nhwc; break;
    case BNC_LAYOUT_NCDHW: p.lay = layout::ncdhw; break;
    case BNC_LAYOUT_NDHWC: p.lay = layout::ndhwc; break;
    default: throw unsupported_call("unknown layout " + std::to_string(a.layout));
  }
  switch (a.profile) {
    case BNC_PROFILE_ONNX: p.prof = profile::onnx; break;
    case BNC_PROFILE_PYTORCH: p.prof = profile::pytorch; break;
    case BNC_PROFILE_CUDNN: p.prof = profile::cudnn; break;
    default: throw unsupported_call("unknown profile " + std::to_string(a.profile));
  }
  p.eps = a.eps;
  p.momentum = a.momentum;

  const std::map<std::string, const DLTensor*> given = {
      {"x", a.x},       {"dy", a.dy},         {"gamma", a.gamma},
      {"beta", a.beta}, {"y", a.y},           {"dx", a.dx},
      {"mean", a.mean}, {"var", a.var},       {"invstd", a.invstd},
      {"running_mean", a.running_mean},       {"running_var", a.running_var},
      {"dgamma", a.dgamma},                   {"dbeta", a.dbeta}};
  std::map<std::string, const DLTensor*> with_shards = given;
  if (p.op == op_kind::merge_statistics) {
    with_shards["shard_count"] = a.shard_count;
    with_shards["shard_mean"] = a.shard_mean;
    with_shards["shard_m2"] = a.shard_m2;
    decode_shards(a, p);
    bind_buffers(p, with_shards, call);
    return call;
  }
  if (a.x == nullptr || a.gamma == nullptr) throw std::invalid_argument("x and gamma are required");
  if (a.x->ndim != data_rank(p.lay) || a.x->shape == nullptr)
    throw std::invalid_argument("x has " + std::to_string(a.x->ndim) + " axes; layout " +
                                std::string(to_string(p.lay)) + " has " + std::to_string(data_rank(p.lay)));
  const auto data_t = from_dl_type(a.x->dtype);
  const auto param_t = from_dl_type(a.gamma->dtype);
  if (!data_t) throw unsupported_call("x has the unsupported DLPack type " + type_text(a.x->dtype));
  if (!param_t) throw unsupported_call("gamma has the unsupported DLPack type " + type_text(a.gamma->dtype));
  p.data_type = *data_t;
  p.param_type = *param_t;
  const int64_t* s = a.x->shape;
  p.n = s[0];
  p.c = s[1];
  const int rank = data_rank(p.lay);
  if (rank == 4) p.h = s[2], p.w = s[3];
  if (rank == 5) p.d = s[2], p.h = s[3], p.w = s[4];
  try {
    validate(p);
  } catch (const std::exception& e) {
    throw std::invalid_argument(e.what());
  }

  bind_buffers(p, with_shards, call);
  return call;
}

void set_message(char* message, std::size_t capacity, const std::string& text) {
  if (message == nullptr || capacity == 0) return;
  const std::size_t n = std::min(capacity - 1, text.size());
  std::memcpy(message, text.data(), n);
  message[n] = '\0';
}

namespace {
constexpr std::pair<const char*, uint32_t> output_bits[] = {
    {"mean", BNC_OUTPUT_MEAN},
    {"var", BNC_OUTPUT_VAR},
    {"invstd", BNC_OUTPUT_INVSTD},
    {"running_mean", BNC_OUTPUT_RUNNING_MEAN},
    {"running_var", BNC_OUTPUT_RUNNING_VAR},
};
}  // namespace

uint32_t output_bit(const std::string& name) {
  for (const auto& [n, bit] : output_bits)
    if (name == n) return bit;
  return 0;
}

std::vector<std::string> call_args::not_produced() const {
  std::vector<std::string> names;
  uint32_t rest = not_produced_;
  for (const auto& [n, bit] : output_bits)
    if (rest & bit) {
      names.emplace_back(n);
      rest &= ~bit;
    }
  if (rest != 0)
    throw std::invalid_argument("the plugin set unknown bits " + std::to_string(rest) +
                                " in not_produced (include/bncheck/bncheck_kernel.h: BNC_OUTPUT_*)");
  return names;
}

bnc_status create_kernel(std::unique_ptr<kernel> (*make)(), void** instance, const char* label, char* message,
                         std::size_t capacity) {
  try {
    *instance = make().release();
    return BNC_OK;
  } catch (const std::bad_alloc&) {
    set_message(message, capacity, std::string(label) + "out of memory");
  } catch (const std::exception& e) {
    set_message(message, capacity, std::string(label) + "cannot create the kernel: " + e.what());
  } catch (...) {
    set_message(message, capacity, std::string(label) + "cannot create the kernel");
  }
  return BNC_ERROR;
}

bnc_status call_kernel(void* instance, const bnc_batch_norm_args* args, const char* label, char* message,
                       std::size_t capacity) {
  try {
    if (instance == nullptr || args == nullptr) {
      set_message(message, capacity, std::string(label) + "null instance or arguments");
      return BNC_INVALID_ARGUMENT;
    }
    const decoded_call call = decode_args(*args);
    auto* k = static_cast<kernel*>(instance);
    if (!dense_storage(call.prob) && !k->takes_strides()) {
      set_message(message, capacity, std::string(label) + "data tensors must be dense in the layout (" + k->name() + " takes no strides)");
      return BNC_UNIMPLEMENTED;
    }
    const kernel_result r = k->run(call.prob, call.io);
    set_message(message, capacity, r.message);
    switch (r.status) {
      case kernel_status::ok:
        if (!r.not_produced.empty()) {
          if (!BNC_HAS_FIELD(args, bnc_batch_norm_args, not_produced) || args->not_produced == nullptr) {
            set_message(message, capacity, std::string(label) + "outputs not produced, and the caller cannot be told");
            return BNC_ERROR;
          }
          for (const std::string& n : r.not_produced) *args->not_produced |= output_bit(n);
        }
        return BNC_OK;
      case kernel_status::unimplemented: return BNC_UNIMPLEMENTED;
      case kernel_status::error: return BNC_ERROR;
    }
    return BNC_ERROR;
  } catch (const unsupported_call& e) {
    set_message(message, capacity, std::string(label) + e.what());
    return BNC_UNIMPLEMENTED;
  } catch (const std::invalid_argument& e) {
    set_message(message, capacity, std::string(label) + e.what());
    return BNC_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    set_message(message, capacity, std::string(label) + e.what());
  } catch (...) {
    set_message(message, capacity, std::string(label) + "unknown exception");
  }
  return BNC_ERROR;
}

}  // namespace bncheck::abi
