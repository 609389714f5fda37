// Command otelsend sends log records with the official OpenTelemetry Go
// SDK and its OTLP log exporters (otlploghttp or otlploggrpc), so that
// sluice's opentelemetry source is tested against the real client. The
// records to send are read from an OTLP/JSON ExportLogsServiceRequest
// file; each resource gets a LoggerProvider of its own, each scope a
// Logger, and each record is emitted with its trace context.
//
//	otelsend -protocol http|grpc -endpoint 127.0.0.1:4318 -in records.json
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
)

func main() {
	protocol := flag.String("protocol", "http", "http or grpc")
	endpoint := flag.String("endpoint", "127.0.0.1:4318", "host:port of the OTLP receiver")
	in := flag.String("in", "", "OTLP/JSON ExportLogsServiceRequest to send")
	token := flag.String("token", "", "bearer token")
	flag.Parse()
	if err := run(*protocol, *endpoint, *in, *token); err != nil {
		fmt.Fprintln(os.Stderr, "otelsend:", err)
		os.Exit(1)
	}
}

func run(protocol, endpoint, in, token string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("reading %s: %w", in, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	headers := map[string]string{}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	rls := req.Logs().ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		var exp log.Exporter
		switch protocol {
		case "http":
			exp, err = otlploghttp.New(ctx, otlploghttp.WithEndpoint(endpoint), otlploghttp.WithInsecure(), otlploghttp.WithHeaders(headers))
		case "grpc":
			exp, err = otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(endpoint), otlploggrpc.WithInsecure(), otlploggrpc.WithHeaders(headers))
		default:
			err = fmt.Errorf("protocol %q: use http or grpc", protocol)
		}
		if err != nil {
			return err
		}
		if err := sendResource(ctx, &failing{Exporter: exp}, rls.At(i)); err != nil {
			return err
		}
	}
	return nil
}

// failing keeps the first export error: the SDK's processors only hand
// them to the global error handler.
type failing struct {
	log.Exporter
	mu  sync.Mutex
	err error
}

func (f *failing) Export(ctx context.Context, records []log.Record) error {
	err := f.Exporter.Export(ctx, records)
	if err != nil {
		f.mu.Lock()
		f.err = cmp.Or(f.err, err)
		f.mu.Unlock()
	}
	return err
}

func (f *failing) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func sendResource(ctx context.Context, exp *failing, rl plog.ResourceLogs) error {
	res := resource.NewSchemaless(kvs(rl.Resource().Attributes())...)
	// A simple processor exports each record at once, and Shutdown
	// returns the exporter's error, so a failed send fails the program.
	lp := log.NewLoggerProvider(log.WithResource(res), log.WithProcessor(log.NewSimpleProcessor(exp)))
	sls := rl.ScopeLogs()
	for j := 0; j < sls.Len(); j++ {
		sl := sls.At(j)
		sc := sl.Scope()
		logger := lp.Logger(sc.Name(), otellog.WithInstrumentationVersion(sc.Version()),
			otellog.WithInstrumentationAttributes(kvs(sc.Attributes())...))
		lrs := sl.LogRecords()
		for k := 0; k < lrs.Len(); k++ {
			lr := lrs.At(k)
			var r otellog.Record
			r.SetTimestamp(lr.Timestamp().AsTime())
			r.SetObservedTimestamp(lr.ObservedTimestamp().AsTime())
			r.SetSeverity(otellog.Severity(lr.SeverityNumber()))
			r.SetSeverityText(lr.SeverityText())
			r.SetEventName(lr.EventName())
			if lr.Body().Type() != pcommon.ValueTypeEmpty {
				r.SetBody(logValue(lr.Body()))
			}
			r.AddAttributes(kvs(lr.Attributes())...)
			sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID(lr.TraceID()),
				SpanID: trace.SpanID(lr.SpanID()), TraceFlags: trace.TraceFlags(lr.Flags())})
			logger.Emit(trace.ContextWithSpanContext(ctx, sc), r)
		}
	}
	if err := lp.ForceFlush(ctx); err != nil {
		return err
	}
	if err := lp.Shutdown(ctx); err != nil {
		return err
	}
	return exp.Err()
}

func kvs(m pcommon.Map) []attribute.KeyValue {
	var out []attribute.KeyValue
	m.Range(func(k string, v pcommon.Value) bool {
		out = append(out, attribute.KeyValue{Key: attribute.Key(k), Value: logValue(v)})
		return true
	})
	return out
}

func logValue(v pcommon.Value) attribute.Value {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return attribute.StringValue(v.Str())
	case pcommon.ValueTypeInt:
		return attribute.Int64Value(v.Int())
	case pcommon.ValueTypeDouble:
		return attribute.Float64Value(v.Double())
	case pcommon.ValueTypeBool:
		return attribute.BoolValue(v.Bool())
	case pcommon.ValueTypeBytes:
		return attribute.ByteSliceValue(v.Bytes().AsRaw())
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		vs := make([]attribute.Value, s.Len())
		for i := range vs {
			vs[i] = logValue(s.At(i))
		}
		return attribute.SliceValue(vs...)
	case pcommon.ValueTypeMap:
		return attribute.MapValue(kvs(v.Map())...)
	}
	return attribute.Value{}
}
