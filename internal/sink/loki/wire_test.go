package loki

import (
	"bytes"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/sluice-log/sluice/internal/testutil"
)

// pushDescriptor is Loki's push.proto (PushRequest, StreamAdapter,
// EntryAdapter, with google.protobuf.Timestamp's fields) built as a
// descriptor, so the reference encoding is proto.Marshal's, not ours.
func pushDescriptor(t testing.TB) protoreflect.FileDescriptor {
	t.Helper()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	field := func(name string, num int32, label *descriptorpb.FieldDescriptorProto_Label,
		typ descriptorpb.FieldDescriptorProto_Type, msg string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Label: label, Type: typ.Enum()}
		if msg != "" {
			f.TypeName = proto.String(".logproto." + msg)
		}
		return f
	}
	fd := &descriptorpb.FileDescriptorProto{
		Name: proto.String("push.proto"), Package: proto.String("logproto"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Timestamp"), Field: []*descriptorpb.FieldDescriptorProto{
				field("seconds", 1, opt, descriptorpb.FieldDescriptorProto_TYPE_INT64, ""),
				field("nanos", 2, opt, descriptorpb.FieldDescriptorProto_TYPE_INT32, "")}},
			{Name: proto.String("EntryAdapter"), Field: []*descriptorpb.FieldDescriptorProto{
				field("timestamp", 1, opt, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, "Timestamp"),
				field("line", 2, opt, descriptorpb.FieldDescriptorProto_TYPE_STRING, "")}},
			{Name: proto.String("StreamAdapter"), Field: []*descriptorpb.FieldDescriptorProto{
				field("labels", 1, opt, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
				field("entries", 2, rep, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, "EntryAdapter")}},
			{Name: proto.String("PushRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("streams", 1, rep, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, "StreamAdapter")}},
		}}
	f, err := protodesc.NewFile(fd, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// reference encodes streams with proto.Marshal through the descriptor.
func reference(t testing.TB, fd protoreflect.FileDescriptor, streams []*stream) []byte {
	t.Helper()
	msgs := fd.Messages()
	tsD, entD, stD, reqD := msgs.ByName("Timestamp"), msgs.ByName("EntryAdapter"), msgs.ByName("StreamAdapter"), msgs.ByName("PushRequest")
	req := dynamicpb.NewMessage(reqD)
	list := req.Mutable(reqD.Fields().ByName("streams")).List()
	for _, s := range streams {
		sm := dynamicpb.NewMessage(stD)
		sm.Set(stD.Fields().ByName("labels"), protoreflect.ValueOfString(s.set.str))
		ents := sm.Mutable(stD.Fields().ByName("entries")).List()
		for _, e := range s.entries {
			em := dynamicpb.NewMessage(entD)
			ts := dynamicpb.NewMessage(tsD)
			sec, nanos := splitTime(e.ts)
			ts.Set(tsD.Fields().ByName("seconds"), protoreflect.ValueOfInt64(sec))
			ts.Set(tsD.Fields().ByName("nanos"), protoreflect.ValueOfInt32(int32(nanos)))
			em.Set(entD.Fields().ByName("timestamp"), protoreflect.ValueOfMessage(ts))
			em.Set(entD.Fields().ByName("line"), protoreflect.ValueOfString(string(e.line)))
			ents.Append(protoreflect.ValueOfMessage(em))
		}
		list.Append(protoreflect.ValueOfMessage(sm))
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testStreams() []*stream {
	return []*stream{
		{set: &labelSet{str: `{app="web", host="h\"1"}`}, entries: []entry{
			{ts: time.Date(2026, 12, 6, 5, 0, 0, 1, time.UTC).UnixNano(), line: []byte("GET / 200")},
			{ts: 0, line: []byte("")},
			{ts: -1, line: []byte("before 1970")},
			{ts: 1e9, line: []byte("é ✓")},
		}},
		{set: &labelSet{str: `{app="db"}`}, entries: []entry{{ts: 42, line: bytes.Repeat([]byte("x"), 300)}}},
	}
}

// TestProtobufByteForByte: the hand-written encoding equals proto.Marshal's
// for Loki's messages, byte for byte, and decodes back.
func TestProtobufByteForByte(t *testing.T) {
	fd := pushDescriptor(t)
	streams := testStreams()
	got := appendPush(nil, streams)
	if want := reference(t, fd, streams); !bytes.Equal(got, want) {
		t.Fatalf("encoding differs from proto.Marshal:\n got %x\nwant %x", got, want)
	}
	dec, err := decodePush(got)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, flatten(streams), dec)
}

func flatten(streams []*stream) []pushed {
	var out []pushed
	for _, s := range streams {
		p := pushed{Labels: s.set.str}
		for _, e := range s.entries {
			p.Entries = append(p.Entries, pushedEntry{TS: e.ts, Line: string(e.line)})
		}
		out = append(out, p)
	}
	return out
}

// FuzzEncodeRoundTrip: any labels, lines and times encode to what
// proto.Marshal writes and decode back unchanged.
func FuzzEncodeRoundTrip(f *testing.F) {
	f.Add(`{a="b"}`, "line", int64(1), "second", int64(-5))
	f.Add("", "", int64(0), "", int64(1<<62))
	fd := pushDescriptor(f)
	f.Fuzz(func(t *testing.T, labels, line1 string, ts1 int64, line2 string, ts2 int64) {
		if !utf8.ValidString(labels) || !utf8.ValidString(line1) || !utf8.ValidString(line2) {
			return // proto3 strings are UTF-8; Loki's lines come from events that are
		}
		streams := []*stream{{set: &labelSet{str: labels}, entries: []entry{{ts: ts1, line: []byte(line1)}, {ts: ts2, line: []byte(line2)}}}}
		got := appendPush(nil, streams)
		if want := reference(t, fd, streams); !bytes.Equal(got, want) {
			t.Fatalf("encoding differs from proto.Marshal:\n got %x\nwant %x", got, want)
		}
		dec, err := decodePush(got)
		if err != nil {
			t.Fatal(err)
		}
		testutil.Diff(t, flatten(streams), dec)
	})
}

func TestJSONEncoding(t *testing.T) {
	streams := []*stream{{set: &labelSet{str: `{app="web"}`, pairs: []string{"app", "web"}},
		entries: []entry{{ts: 5, line: []byte(`a "q"`)}, {ts: 1e18, line: []byte("b")}}}}
	want := `{"streams":[{"stream":{"app":"web"},"values":[["5","a \"q\""],["1000000000000000000","b"]]}]}`
	if got := string(appendJSON(nil, streams)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
