// The fused CPU kernels of inertia.functional.cm and inertia.functional.nag: one pass over
// parameter, gradient and velocity per tensor, parallel over elements (ATen's intra-op threads).
// Built on first use by torch.utils.cpp_extension (see _momentum.py); the arithmetic is the
// single-tensor specification's, in its order:
//   CM,  Sutskever et al. (2013) eq. (1):  v <- mu v - lr g;  theta <- theta + v
//   NAG, the one-gradient form of eq. (2): v <- mu v - lr g;  phi <- (phi - lr g) + mu' v
// with g <- g + wd p first where wd != 0. A call returns false, writing nothing, if any tensor is
// not a dense contiguous float32/float64 CPU tensor of its parameter's shape and dtype; the caller
// then takes another path.
#include <torch/extension.h>

#include <ATen/Parallel.h>

#include <vector>

namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per task of at::parallel_for

bool supported(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads,
               const std::vector<at::Tensor>& velocities) {
  if (params.size() != grads.size() || params.size() != velocities.size()) return false;
  for (size_t k = 0; k < params.size(); ++k) {
    const at::Tensor& p = params[k];
    for (const at::Tensor* t : {&p, &grads[k], &velocities[k]}) {
      if (!t->defined() || t->device().type() != at::kCPU || t->is_sparse() ||
          t->scalar_type() != p.scalar_type() || !t->sizes().equals(p.sizes()) ||
          !t->is_contiguous()) {
        return false;
      }
    }
    if (p.scalar_type() != at::kFloat && p.scalar_type() != at::kDouble) return false;
  }
  return true;
}

template <typename T>
void cm_tensor(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ v, int64_t n, T lr,
               T mu, T wd) {
  at::parallel_for(0, n, kGrain, [=](int64_t begin, int64_t end) {
    if (wd != T(0)) {
      for (int64_t i = begin; i < end; ++i) {
        const T grad = g[i] + p[i] * wd;
        const T velocity = v[i] * mu - grad * lr;
        p[i] = p[i] + velocity;
        v[i] = velocity;
      }
    } else {
      for (int64_t i = begin; i < end; ++i) {
        const T velocity = v[i] * mu - g[i] * lr;
        p[i] = p[i] + velocity;
        v[i] = velocity;
      }
    }
  });
}

template <typename T>
void nag_tensor(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ v, int64_t n, T lr,
                T mu, T next_mu, T wd) {
  at::parallel_for(0, n, kGrain, [=](int64_t begin, int64_t end) {
    if (wd != T(0)) {
      for (int64_t i = begin; i < end; ++i) {
        const T grad = g[i] + p[i] * wd;
        const T velocity = v[i] * mu - grad * lr;
        p[i] = (p[i] - grad * lr) + velocity * next_mu;
        v[i] = velocity;
      }
    } else {
      for (int64_t i = begin; i < end; ++i) {
        const T velocity = v[i] * mu - g[i] * lr;
        p[i] = (p[i] - g[i] * lr) + velocity * next_mu;
        v[i] = velocity;
      }
    }
  });
}

void written(const at::Tensor& param, const at::Tensor& velocity) {
  // As an in-place ATen op would: autograd then refuses a graph that saved the old values.
  torch::autograd::impl::bump_version(param);
  torch::autograd::impl::bump_version(velocity);
}

}  // namespace

bool cm_step(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads,
             const std::vector<at::Tensor>& velocities, double lr, double momentum,
             double weight_decay) {
  if (!supported(params, grads, velocities)) return false;
  for (size_t k = 0; k < params.size(); ++k) {
    AT_DISPATCH_FLOATING_TYPES(params[k].scalar_type(), "inertia_cm_step", [&] {
      cm_tensor<scalar_t>(params[k].data_ptr<scalar_t>(), grads[k].data_ptr<scalar_t>(),
                          velocities[k].data_ptr<scalar_t>(), params[k].numel(),
                          static_cast<scalar_t>(lr), static_cast<scalar_t>(momentum),
                          static_cast<scalar_t>(weight_decay));
    });
    written(params[k], velocities[k]);
  }
  return true;
}

bool nag_step(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads,
              const std::vector<at::Tensor>& velocities, double lr, double momentum,
              double next_momentum, double weight_decay) {
  if (!supported(params, grads, velocities)) return false;
  for (size_t k = 0; k < params.size(); ++k) {
    AT_DISPATCH_FLOATING_TYPES(params[k].scalar_type(), "inertia_nag_step", [&] {
      nag_tensor<scalar_t>(params[k].data_ptr<scalar_t>(), grads[k].data_ptr<scalar_t>(),
                           velocities[k].data_ptr<scalar_t>(), params[k].numel(),
                           static_cast<scalar_t>(lr), static_cast<scalar_t>(momentum),
                           static_cast<scalar_t>(next_momentum),
                           static_cast<scalar_t>(weight_decay));
    });
    written(params[k], velocities[k]);
  }
  return true;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, module) {
  module.def("cm_step", &cm_step, "Classical momentum, one pass per tensor");
  module.def("nag_step", &nag_step, "Nesterov's accelerated gradient, one pass per tensor");
}
