"""The standard `OTEL_*` variables read into a tracer provider, or into "tracing is off"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from service_defaults.settings import ConfigError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import Sampler

PER_SIGNAL_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)


def service_name(environ: Mapping[str, str], default: str) -> str:
    return environ.get("OTEL_SERVICE_NAME", "").strip() or default


def traces_endpoint(environ: Mapping[str, str]) -> str | None:
    """Where spans go, as the OTLP exporter would read it; None (tracing off) when
    unset, empty (as the specification says), or `OTEL_SDK_DISABLED=true`."""
    disabled = environ.get("OTEL_SDK_DISABLED", "false").strip().lower()
    if disabled not in ("true", "false", ""):
        raise ConfigError(f"OTEL_SDK_DISABLED: expected true or false, got {disabled!r}")
    if disabled == "true":
        return None
    if per_signal := environ.get(PER_SIGNAL_ENDPOINT, "").strip():
        return per_signal
    if base := environ.get(ENDPOINT, "").strip():
        return f"{base.rstrip('/')}/v1/traces"
    return None


def create_tracer_provider(environ: Mapping[str, str], name: str, endpoint: str) -> TracerProvider:
    """Spans batched and sent over OTLP/HTTP protobuf to `endpoint`.

    The name, endpoint and sampler come from `environ`; the exporter's headers and
    timeout and the batch settings (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_*`) the
    SDK reads from the process's own environment, as it always does.
    """
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: name}), sampler=create_sampler(environ)
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def create_sampler(environ: Mapping[str, str]) -> Sampler:
    """`OTEL_TRACES_SAMPLER` (default: every request, or as the caller's trace decided).

    The SDK would log a warning and sample everything on a typo: here a typo stops
    start-up with the variable's name.
    """
    from opentelemetry.sdk.trace import sampling

    name = environ.get("OTEL_TRACES_SAMPLER", "").strip().lower() or "parentbased_always_on"
    if name not in SAMPLERS:
        raise ConfigError(f"OTEL_TRACES_SAMPLER: expected one of {', '.join(SAMPLERS)}")
    if name == "always_on":
        return sampling.ALWAYS_ON
    if name == "always_off":
        return sampling.ALWAYS_OFF
    if name == "parentbased_always_on":
        return sampling.ParentBased(sampling.ALWAYS_ON)
    if name == "parentbased_always_off":
        return sampling.ParentBased(sampling.ALWAYS_OFF)
    ratio = sampling.TraceIdRatioBased(_ratio(environ))
    return ratio if name == "traceidratio" else sampling.ParentBased(ratio)


def _ratio(environ: Mapping[str, str]) -> float:
    try:
        ratio = float(environ.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError("OTEL_TRACES_SAMPLER_ARG: expected a ratio between 0 and 1")
    return ratio
