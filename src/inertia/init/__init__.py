"""Initializers in the style of ``torch.nn.init``: in place, trailing underscore."""

from inertia.init._sparse import echo_state_ as echo_state_
from inertia.init._sparse import echo_state_rnn_ as echo_state_rnn_
from inertia.init._sparse import sparse_ as sparse_
from inertia.init._sparse import sparse_init_ as sparse_init_
from inertia.init._sparse import spectral_radius as spectral_radius

__all__ = ["echo_state_", "echo_state_rnn_", "sparse_", "sparse_init_", "spectral_radius"]
