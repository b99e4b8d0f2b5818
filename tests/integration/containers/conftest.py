"""Make the container fixtures available to these tests."""

from adapters.testing.containers import nats_container

__all__ = ["nats_container"]
