// Sends spans and log records to a coroot server with the real OpenTelemetry JS SDK exporters:
// traces as OTLP/HTTP protobuf and OTLP/HTTP JSON, logs as OTLP/HTTP protobuf and JSON, and, when a
// gRPC address is given, a trace and a log record over OTLP/gRPC.
//   node emit.js <base url> <run id> [api key] [grpc host:port]
// Prints one JSON line with the ids and times it used, for the test to check field by field.
const { trace, context, SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter: ProtoTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { OTLPTraceExporter: JsonTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { OTLPLogExporter: ProtoLogExporter } = require('@opentelemetry/exporter-logs-otlp-proto');
const { OTLPLogExporter: JsonLogExporter } = require('@opentelemetry/exporter-logs-otlp-http');
const { LoggerProvider, SimpleLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const [base, run, apiKey, grpcAddr] = process.argv.slice(2);
const headers = apiKey ? { 'X-Api-Key': apiKey } : {};

// An HrTime [seconds, nanoseconds] `ms` milliseconds (plus `ns`) after t0, and its nanoseconds as a string.
const t0 = Math.floor(Date.now() / 1000) - 5;
const at = (ms, ns = 0) => [t0 + Math.floor(ms / 1000), (ms % 1000) * 1e6 + ns];
const nanos = (hr) => (BigInt(hr[0]) * 1000000000n + BigInt(hr[1])).toString();

function tracerProvider(service, exporter) {
  return new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'test', 'host.cores': 2 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
}

function loggerProvider(service, exporter) {
  return new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
}

async function main() {
  const out = { t0 };
  // ---- protobuf traces: a server span, its client child with an event and a link, and the linked span.
  const protoTp = tracerProvider(`${run}-proto`, new ProtoTraceExporter({ url: `${base}/v1/traces`, headers }));
  const tracer = protoTp.getTracer('checkout-lib', '1.4.2');
  const other = tracer.startSpan('background job', { kind: SpanKind.INTERNAL, startTime: at(0) });
  other.end(at(5));
  const rootStart = at(100, 123);
  const root = tracer.startSpan('GET /checkout', {
    kind: SpanKind.SERVER,
    startTime: rootStart,
    attributes: { 'http.method': 'GET', 'http.status_code': 500, ratio: 0.5, retry: true, tags: ['a', 'b'] },
  });
  const parent = trace.setSpan(context.active(), root);
  const childStart = at(110);
  const child = tracer.startSpan(
    'SELECT orders',
    {
      kind: SpanKind.CLIENT,
      startTime: childStart,
      attributes: { 'db.system': 'postgresql', 'net.sock.peer.addr': '10.1.2.3', 'net.peer.name': 'db', 'net.peer.port': 5432 },
      links: [{ context: other.spanContext(), attributes: { 'link.reason': 'retry' } }],
    },
    parent,
  );
  const eventTime = at(120);
  child.addEvent('exception', { 'exception.message': 'timeout', 'exception.type': 'TimeoutError' }, eventTime);
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'query timeout' });
  child.end(at(140));
  root.setStatus({ code: SpanStatusCode.OK });
  root.end(at(150, 123));
  Object.assign(out, {
    trace_id: root.spanContext().traceId,
    root_span_id: root.spanContext().spanId,
    child_span_id: child.spanContext().spanId,
    other_trace_id: other.spanContext().traceId,
    other_span_id: other.spanContext().spanId,
    root_start: nanos(rootStart),
    child_start: nanos(childStart),
    event_time: nanos(eventTime),
  });

  // ---- JSON traces.
  const jsonTp = tracerProvider(`${run}-json`, new JsonTraceExporter({ url: `${base}/v1/traces`, headers }));
  const jt = jsonTp.getTracer('json-lib');
  const jsonStart = at(200);
  const js = jt.startSpan('consume queue', { kind: SpanKind.CONSUMER, startTime: jsonStart, attributes: { 'messaging.system': 'kafka', attempt: 3 } });
  js.addEvent('rebalance', { partitions: [1, 2, 3] }, at(210));
  js.end(at(225));
  Object.assign(out, { json_trace_id: js.spanContext().traceId, json_span_id: js.spanContext().spanId, json_start: nanos(jsonStart) });

  // ---- logs: protobuf (in the root span's context) and JSON (a structured body).
  const protoLp = loggerProvider(`${run}-logs`, new ProtoLogExporter({ url: `${base}/v1/logs`, headers }));
  const logTime = at(130, 7);
  protoLp.getLogger('app-logger').emit({
    timestamp: logTime,
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'disk almost full on /dev/sda',
    attributes: { disk: '/dev/sda', used_pct: 97 },
    context: parent,
  });
  const jsonLp = loggerProvider(`${run}-logs-json`, new JsonLogExporter({ url: `${base}/v1/logs`, headers }));
  const jsonLogTime = at(300);
  jsonLp.getLogger('json-logger').emit({
    timestamp: jsonLogTime,
    severityNumber: SeverityNumber.ERROR,
    severityText: 'ERROR',
    body: { msg: 'payment declined', code: 7 },
  });
  Object.assign(out, { log_time: nanos(logTime), json_log_time: nanos(jsonLogTime) });

  const providers = [protoTp, jsonTp, protoLp, jsonLp];
  if (grpcAddr) {
    // Required lazily: only the gRPC mode needs @grpc/grpc-js.
    const { OTLPTraceExporter: GrpcTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
    const { OTLPLogExporter: GrpcLogExporter } = require('@opentelemetry/exporter-logs-otlp-grpc');
    const grpcTp = tracerProvider(`${run}-grpc`, new GrpcTraceExporter({ url: `http://${grpcAddr}` }));
    const gs = grpcTp.getTracer('grpc-lib', '0.1.0').startSpan('grpc call', {
      kind: SpanKind.PRODUCER,
      startTime: at(400),
      attributes: { 'rpc.system': 'grpc', size: 1.25 },
    });
    gs.setStatus({ code: SpanStatusCode.ERROR, message: 'unavailable' });
    gs.end(at(412));
    const grpcLp = loggerProvider(`${run}-grpc-logs`, new GrpcLogExporter({ url: `http://${grpcAddr}` }));
    const grpcLogTime = at(420);
    grpcLp.getLogger('grpc-logger').emit({
      timestamp: grpcLogTime,
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      body: 'sent over gRPC',
      attributes: { transport: 'grpc' },
      context: trace.setSpan(context.active(), gs),
    });
    Object.assign(out, {
      grpc_trace_id: gs.spanContext().traceId,
      grpc_span_id: gs.spanContext().spanId,
      grpc_start: nanos(at(400)),
      grpc_log_time: nanos(grpcLogTime),
    });
    providers.push(grpcTp, grpcLp);
  }
  for (const p of providers) {
    await p.forceFlush();
    await p.shutdown();
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
