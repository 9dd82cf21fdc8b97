package app_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"
	"time"
)

// rawField is one header table entry written verbatim: typ is the AMQP
// field type byte and value its encoded bytes. It lets a test send what
// amqp091-go cannot, e.g. the 'L' (int64) a Python py-amqp peer uses for
// an integer >= 2^31, which amqp091-go's frame reader rejects.
type rawField struct {
	name  string
	typ   byte
	value []byte
}

// rawMessage is what rawPublish sends: the properties is-wire uses.
type rawMessage struct {
	key         string
	replyTo     string
	contentType string
	timestampMs int64 // 0: not sent
	headers     []rawField
	body        []byte
}

// rawPublish publishes msg to exchange "is" over a hand-written AMQP 0-9-1
// session (PLAIN auth, one channel, publisher confirms) and returns when
// the broker has confirmed it. uri gives host, user and password.
func rawPublish(t *testing.T, uri string, msg rawMessage) {
	t.Helper()
	if err := rawPublishErr(uri, msg); err != nil {
		t.Fatalf("raw publish: %v", err)
	}
}

func rawPublishErr(uri string, msg rawMessage) error {
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("parse uri: %w", err)
	}
	host := u.Host
	if u.Port() == "" {
		host += ":5672"
	}
	pass, _ := u.User.Password()
	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	s := &rawSession{r: bufio.NewReader(conn), w: conn}

	if _, err := conn.Write([]byte("AMQP\x00\x00\x09\x01")); err != nil {
		return fmt.Errorf("protocol header: %w", err)
	}
	if _, err := s.expect(0, 10, 10); err != nil { // Connection.Start
		return err
	}
	var a rawArgs
	a.table(nil) // client properties
	a.shortstr("PLAIN")
	a.longstr("\x00" + u.User.Username() + "\x00" + pass)
	a.shortstr("en_US")
	if err := s.method(0, 10, 11, a.Bytes()); err != nil { // Start-Ok
		return err
	}
	tune, err := s.expect(0, 10, 30) // Connection.Tune
	if err != nil {
		return err
	}
	// Tune-Ok: the server's channel-max and frame-max, no heartbeats.
	if err := s.method(0, 10, 31, append(tune[:6:6], 0, 0)); err != nil {
		return err
	}
	vhost := "/"
	if p := u.Path; len(p) > 1 {
		vhost = p[1:]
	}
	a = rawArgs{}
	a.shortstr(vhost)
	a.shortstr("")
	a.WriteByte(0)
	if err := s.method(0, 10, 40, a.Bytes()); err != nil { // Connection.Open
		return err
	}
	if _, err := s.expect(0, 10, 41); err != nil {
		return err
	}
	if err := s.method(1, 20, 10, []byte{0}); err != nil { // Channel.Open
		return err
	}
	if _, err := s.expect(1, 20, 11); err != nil {
		return err
	}
	if err := s.method(1, 85, 10, []byte{0}); err != nil { // Confirm.Select
		return err
	}
	if _, err := s.expect(1, 85, 11); err != nil {
		return err
	}

	a = rawArgs{}
	a.short(0)
	a.shortstr("is")
	a.shortstr(msg.key)
	a.WriteByte(0)                                         // not mandatory, not immediate
	if err := s.method(1, 60, 40, a.Bytes()); err != nil { // Basic.Publish
		return err
	}
	if err := s.frame(2, 1, contentHeader(msg)); err != nil {
		return err
	}
	// Body frames: none for an empty body, else chunks within frame-max
	// (its size less the 8 bytes of frame header and end octet).
	maxChunk := int(binary.BigEndian.Uint32(tune[2:6])) - 8
	for body := msg.body; len(body) > 0; {
		n := min(len(body), maxChunk)
		if err := s.frame(3, 1, body[:n]); err != nil {
			return err
		}
		body = body[n:]
	}
	if _, err := s.expect(1, 60, 80); err != nil { // Basic.Ack
		return fmt.Errorf("wait for confirm: %w", err)
	}

	a = rawArgs{}
	a.short(200)
	a.shortstr("bye")
	a.short(0)
	a.short(0)
	if err := s.method(0, 10, 50, a.Bytes()); err != nil { // Connection.Close
		return err
	}
	_, err = s.expect(0, 10, 51)
	return err
}

// contentHeader builds the content header frame's payload for class basic.
func contentHeader(msg rawMessage) []byte {
	var a rawArgs
	a.short(60)
	a.short(0)
	_ = binary.Write(&a, binary.BigEndian, uint64(len(msg.body)))
	// Property flags, bit 15 first: content-type, -encoding, headers, ...,
	// reply-to (bit 9), ..., timestamp (bit 6).
	var flags uint16 = 0x2000 // headers: is-wire always sends them
	if msg.contentType != "" {
		flags |= 0x8000
	}
	if msg.replyTo != "" {
		flags |= 0x0200
	}
	if msg.timestampMs != 0 {
		flags |= 0x0040
	}
	a.short(flags)
	if msg.contentType != "" {
		a.shortstr(msg.contentType)
	}
	a.table(msg.headers)
	if msg.replyTo != "" {
		a.shortstr(msg.replyTo)
	}
	if msg.timestampMs != 0 {
		_ = binary.Write(&a, binary.BigEndian, uint64(msg.timestampMs))
	}
	return a.Bytes()
}

// rawArgs encodes AMQP method arguments and properties.
type rawArgs struct{ bytes.Buffer }

func (a *rawArgs) short(v uint16) { _ = binary.Write(a, binary.BigEndian, v) }

func (a *rawArgs) shortstr(s string) {
	a.WriteByte(byte(len(s)))
	a.WriteString(s)
}

func (a *rawArgs) longstr(s string) {
	_ = binary.Write(a, binary.BigEndian, uint32(len(s)))
	a.WriteString(s)
}

func (a *rawArgs) table(fields []rawField) {
	var t rawArgs
	for _, f := range fields {
		t.shortstr(f.name)
		t.WriteByte(f.typ)
		t.Write(f.value)
	}
	a.longstr(t.String())
}

// rawSession reads and writes frames on one connection.
type rawSession struct {
	r *bufio.Reader
	w io.Writer
}

func (s *rawSession) frame(typ byte, channel uint16, payload []byte) error {
	var b rawArgs
	b.WriteByte(typ)
	b.short(channel)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(payload)))
	b.Write(payload)
	b.WriteByte(0xCE)
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

func (s *rawSession) method(channel, class, id uint16, args []byte) error {
	var b rawArgs
	b.short(class)
	b.short(id)
	b.Write(args)
	return s.frame(1, channel, b.Bytes())
}

// expect reads frames until the method class.id arrives on channel and
// returns its arguments; a Connection.Close or Channel.Close instead is an
// error carrying the broker's reply text.
func (s *rawSession) expect(channel, class, id uint16) ([]byte, error) {
	for {
		var hdr [7]byte
		if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
			return nil, fmt.Errorf("read frame waiting for %d.%d: %w", class, id, err)
		}
		size := binary.BigEndian.Uint32(hdr[3:])
		payload := make([]byte, size+1)
		if _, err := io.ReadFull(s.r, payload); err != nil {
			return nil, fmt.Errorf("read frame body: %w", err)
		}
		if hdr[0] != 1 || size < 4 {
			continue // heartbeat or content: not expected here
		}
		ch := binary.BigEndian.Uint16(hdr[1:])
		c, m := binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:])
		args := payload[4:size]
		if (c == 10 && m == 50) || (c == 20 && m == 40) { // Connection.Close, Channel.Close
			return nil, fmt.Errorf("broker closed (method %d.%d): %s", c, m, closeText(args))
		}
		if ch == channel && c == class && m == id {
			return args, nil
		}
	}
}

// closeText is the reply code and text of a Close method's arguments.
func closeText(args []byte) string {
	if len(args) < 3 {
		return "?"
	}
	code := binary.BigEndian.Uint16(args)
	n := int(args[2])
	if 3+n > len(args) {
		return fmt.Sprint(code)
	}
	return fmt.Sprintf("%d %s", code, args[3:3+n])
}

// int64Field is a header as py-amqp writes an integer outside int32: type 'L', 8 bytes.
func int64Field(name string, v int64) rawField {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(v))
	return rawField{name: name, typ: 'L', value: b}
}

// stringField is a long-string header ('S').
func stringField(name, v string) rawField {
	var a rawArgs
	a.longstr(v)
	return rawField{name: name, typ: 'S', value: a.Bytes()}
}
