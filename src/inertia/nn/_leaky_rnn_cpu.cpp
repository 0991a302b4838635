// The time loops of inertia.nn.leaky_rnn on CPU (see _leaky_rnn.py for the recurrence and its
// backward pass): the same operations in the same order as the Python loops, each step's small
// ATen calls made from C++ instead of Python, and for leaky units the interpolation fused into
// one pass. Called only with dense contiguous float32/float64 CPU tensors of matching dtype.
//
// forward:  a_t = drive_t + h_{t-1} W_hhᵀ;  post_t = f(a_t);  h_t = keep ⊙ post_t + α ⊙ h_{t-1}
//           (without a leak h_t = post_t, written in place)
// backward: total_t = g_t + c_t;  δ_t = total_t ⊙ s_t;  c_{t-1} = α ⊙ total_t + δ_t W_hh
//           (without a leak δ_t = scaled_t + s_t ⊙ c_t;  c_{t-1} = δ_t W_hh)
#include <torch/extension.h>

#include <optional>

namespace {

template <typename T>
void interpolate(T* __restrict__ next, const T* __restrict__ post, const T* __restrict__ previous,
                 const T* __restrict__ keep, const T* __restrict__ leak, int64_t rows,
                 int64_t units) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = r * units;
    for (int64_t j = 0; j < units; ++j) {
      next[base + j] = post[base + j] * keep[j] + leak[j] * previous[base + j];
    }
  }
}

template <typename T>
void carry_back(T* __restrict__ delta, T* __restrict__ next_carry, const T* __restrict__ grad,
                const T* __restrict__ carry, const T* __restrict__ scale,
                const T* __restrict__ leak, int64_t rows, int64_t units) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = r * units;
    for (int64_t j = 0; j < units; ++j) {
      const T total = grad[base + j] + carry[base + j];
      delta[base + j] = total * scale[base + j];
      next_carry[base + j] = total * leak[j];
    }
  }
}

}  // namespace

// Fills hidden[1:] (and post, with a leak) from drive (T, B, H), hidden[0] and weight_hh_t.
void forward_loop(const at::Tensor& drive, at::Tensor& hidden, at::Tensor& post,
                  const at::Tensor& weight_hh_t, const std::optional<at::Tensor>& leak,
                  const std::optional<at::Tensor>& keep, bool relu) {
  const int64_t steps = drive.size(0);
  const int64_t rows = drive.size(1);
  const int64_t units = drive.size(2);
  for (int64_t t = 0; t < steps; ++t) {
    at::Tensor activation = leak.has_value() ? post.select(0, t) : hidden.select(0, t + 1);
    at::addmm_out(activation, drive.select(0, t), hidden.select(0, t), weight_hh_t);
    if (relu) {
      activation.relu_();
    } else {
      activation.tanh_();
    }
    if (leak.has_value()) {
      AT_DISPATCH_FLOATING_TYPES(hidden.scalar_type(), "inertia_leaky_rnn_forward", [&] {
        interpolate<scalar_t>(hidden.select(0, t + 1).data_ptr<scalar_t>(),
                              activation.data_ptr<scalar_t>(),
                              hidden.select(0, t).data_ptr<scalar_t>(),
                              keep->data_ptr<scalar_t>(), leak->data_ptr<scalar_t>(), rows,
                              units);
      });
    }
  }
}

// Fills grad_pre (T, B, H) back from the last step and returns the gradient carried to h_0.
at::Tensor backward_loop(const at::Tensor& grad_hidden, const at::Tensor& scale,
                         const std::optional<at::Tensor>& scaled_grad,
                         const at::Tensor& weight_hh, const std::optional<at::Tensor>& leak,
                         at::Tensor& grad_pre) {
  const int64_t steps = grad_hidden.size(0);
  const int64_t rows = grad_hidden.size(1);
  const int64_t units = grad_hidden.size(2);
  at::Tensor carry = at::zeros({rows, units}, grad_hidden.options());
  at::Tensor next_carry = at::empty_like(carry);
  for (int64_t t = steps - 1; t >= 0; --t) {
    at::Tensor delta = grad_pre.select(0, t);
    if (leak.has_value()) {
      AT_DISPATCH_FLOATING_TYPES(carry.scalar_type(), "inertia_leaky_rnn_backward", [&] {
        carry_back<scalar_t>(delta.data_ptr<scalar_t>(), next_carry.data_ptr<scalar_t>(),
                             grad_hidden.select(0, t).data_ptr<scalar_t>(),
                             carry.data_ptr<scalar_t>(), scale.select(0, t).data_ptr<scalar_t>(),
                             leak->data_ptr<scalar_t>(), rows, units);
      });
      next_carry.addmm_(delta, weight_hh);
    } else {
      at::addcmul_out(delta, scaled_grad->select(0, t), scale.select(0, t), carry);
      at::mm_out(next_carry, delta, weight_hh);
    }
    std::swap(carry, next_carry);
  }
  return carry;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, module) {
  module.def("forward_loop", &forward_loop, "leaky_rnn's forward time loop");
  module.def("backward_loop", &backward_loop, "leaky_rnn's backward time loop");
}
