// Subpath export `larder-cache/otel`: instrumentLarder({ tracerProvider, meterProvider }) turns Larder's
// `larder:*` diagnostics_channel events into OpenTelemetry spans and metrics (needs @opentelemetry/api).
export { instrumentLarder, INSTRUMENTATION_NAME } from '../otel/instrument.js';
export type { InstrumentLarderOptions, UninstallLarder } from '../otel/instrument.js';
