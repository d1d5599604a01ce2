package interop

// Harness: implementations, peer processes and the typed peer protocol
// (PROTOCOL.md). The scenarios are in scenarios_test.go, wire-format helpers
// in wire_test.go.

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// libsignalVersion is the libsignal-client release Sotto is wire-compatible
	// with; node/package.json must pin exactly this version.
	libsignalVersion = "0.103.0"

	callTimeout  = 30 * time.Second // one request/response round trip
	exitTimeout  = 10 * time.Second // process exit after quit, EOF or kill
	stderrKeep   = 64 << 10         // bytes of peer stderr kept for failure logs
	maxLineBytes = 16 << 20         // longest accepted response line
)

var seedFlag = flag.Uint64("seed", 0, "seed for the pseudo-random schedules (0: time-based; each test logs its seed)")

// impl is one implementation of the peer protocol.
type impl struct {
	name string
	argv []string // command line; argv[0] is looked up in PATH if it has no slash
	// err, if set, says why this implementation cannot run. Every test
	// involving it fails with this message (never skips).
	err error
}

// impls is the list of available implementations, set up by TestMain.
var impls []impl

func TestMain(m *testing.M) {
	flag.Parse()
	tmp, err := os.MkdirTemp("", "sotto-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(2)
	}
	impls = setupImpls(tmp)
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// setupImpls returns the implementations to test. The test binary runs in
// the package directory (interop/).
func setupImpls(tmp string) []impl {
	list := []impl{nodeImpl()}
	if st, err := os.Stat("gopeer"); err == nil && st.IsDir() {
		list = append(list, goImpl(tmp))
	}
	return list
}

func nodeImpl() impl {
	im := impl{name: "node", argv: []string{"node", filepath.Join("node", "peer.mjs")}}
	const fix = "run `npm ci` in interop/node"
	if _, err := exec.LookPath("node"); err != nil {
		im.err = fmt.Errorf("node peer: node not found in PATH (%v); install Node.js 20+ and %s", err, fix)
		return im
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	raw, err := os.ReadFile(filepath.Join("node", "package.json"))
	if err == nil {
		err = json.Unmarshal(raw, &pkg)
	}
	if err != nil {
		im.err = fmt.Errorf("node peer: reading node/package.json: %v", err)
		return im
	}
	if pin := pkg.Dependencies["@signalapp/libsignal-client"]; pin != libsignalVersion {
		im.err = fmt.Errorf("node peer: node/package.json pins @signalapp/libsignal-client %q, want exactly %q", pin, libsignalVersion)
		return im
	}
	var installed struct {
		Version string `json:"version"`
	}
	raw, err = os.ReadFile(filepath.Join("node", "node_modules", "@signalapp", "libsignal-client", "package.json"))
	if err == nil {
		err = json.Unmarshal(raw, &installed)
	}
	if err != nil {
		im.err = fmt.Errorf("node peer: @signalapp/libsignal-client is not installed (%v): %s", err, fix)
		return im
	}
	if installed.Version != libsignalVersion {
		im.err = fmt.Errorf("node peer: installed @signalapp/libsignal-client is %s, want %s: %s", installed.Version, libsignalVersion, fix)
	}
	return im
}

func goImpl(tmp string) impl {
	bin := filepath.Join(tmp, "gopeer")
	im := impl{name: "go", argv: []string{bin}}
	cmd := exec.Command("go", "build", "-o", bin, "./gopeer")
	out, err := cmd.CombinedOutput()
	if err != nil {
		im.err = fmt.Errorf("go peer: go build ./interop/gopeer: %v\n%s", err, out)
	}
	return im
}

// forEachPair runs fn as a parallel subtest, named "<a>-<b>", for every
// ordered pair of implementations. By convention a plays the initiating
// role.
func forEachPair(t *testing.T, fn func(t *testing.T, a, b impl)) {
	t.Helper()
	if len(impls) == 0 {
		t.Fatal("no implementations configured")
	}
	for _, a := range impls {
		for _, b := range impls {
			t.Run(a.name+"-"+b.name, func(t *testing.T) {
				t.Parallel()
				requireImpl(t, a)
				requireImpl(t, b)
				fn(t, a, b)
			})
		}
	}
}

// forEachImpl runs fn as a parallel subtest for every implementation.
func forEachImpl(t *testing.T, fn func(t *testing.T, im impl)) {
	t.Helper()
	if len(impls) == 0 {
		t.Fatal("no implementations configured")
	}
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			t.Parallel()
			requireImpl(t, im)
			fn(t, im)
		})
	}
}

func requireImpl(t *testing.T, im impl) {
	t.Helper()
	if im.err != nil {
		t.Fatalf("implementation %q unavailable: %v", im.name, im.err)
	}
}

// newRand returns the test's pseudo-random source and logs its seed.
func newRand(t *testing.T) *mrand.Rand {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	return mrand.New(mrand.NewPCG(seed, 0x5077))
}

// ---------------------------------------------------------------------------
// Protocol types (see PROTOCOL.md). []byte fields are standard base64 in JSON.

// Address is a protocol address: an ACI UUID string and a device id.
type Address struct {
	Name     string `json:"name"`
	DeviceID int    `json:"deviceId"`
}

func (a Address) String() string { return a.Name + "." + strconv.Itoa(a.DeviceID) }

// Bundle is a prekey bundle as exchanged between peers.
type Bundle struct {
	RegistrationID        uint32  `json:"registrationId"`
	DeviceID              int     `json:"deviceId"`
	PreKeyID              *uint32 `json:"preKeyId,omitempty"`
	PreKeyPublic          []byte  `json:"preKeyPublic,omitempty"`
	SignedPreKeyID        uint32  `json:"signedPreKeyId"`
	SignedPreKeyPublic    []byte  `json:"signedPreKeyPublic"`
	SignedPreKeySignature []byte  `json:"signedPreKeySignature"`
	IdentityKey           []byte  `json:"identityKey"`
	KyberPreKeyID         uint32  `json:"kyberPreKeyId"`
	KyberPreKeyPublic     []byte  `json:"kyberPreKeyPublic"`
	KyberPreKeySignature  []byte  `json:"kyberPreKeySignature"`
}

// Message types of encrypt/decrypt.
const (
	typeWhisper = 2
	typePreKey  = 3
)

// Ciphertext is an encrypted message with its type.
type Ciphertext struct {
	Type int    `json:"type"`
	Body []byte `json:"ciphertext"`
}

// opError is an ok:false response: the peer rejected the request.
type opError struct {
	Op   string
	Msg  string
	Code string // optional
}

func (e *opError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s: %s [%s]", e.Op, e.Msg, e.Code)
	}
	return e.Op + ": " + e.Msg
}

// ---------------------------------------------------------------------------
// Peer processes

// tailBuffer keeps the last stderrKeep bytes written to it.
type tailBuffer struct {
	mu      sync.Mutex
	buf     []byte
	dropped int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - stderrKeep; over > 0 {
		b.dropped += over
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("[%d earlier bytes dropped]\n%s", b.dropped, b.buf)
	}
	return string(b.buf)
}

// peer is one running peer process plus what the test knows about it.
type peer struct {
	t     testing.TB
	label string // e.g. "alice(node)"
	impl  impl

	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan []byte // response lines; closed at EOF
	readErr error       // set before lines is closed
	exited  chan struct{}
	waitErr error // set before exited is closed
	stderr  tailBuffer
	nextID  int

	// Set by init.
	addr     Address
	identity []byte // serialized identity public key (33 bytes)
	regID    uint32
}

// startPeer starts a peer process for im. The process is killed when the
// test ends; if the test failed its stderr is logged.
func startPeer(t testing.TB, im impl, label string) *peer {
	t.Helper()
	p := &peer{
		t:      t,
		label:  label + "(" + im.name + ")",
		impl:   im,
		lines:  make(chan []byte, 64),
		exited: make(chan struct{}),
	}
	cmd := exec.Command(im.argv[0], im.argv[1:]...)
	cmd.Stderr = &p.stderr
	cmd.WaitDelay = exitTimeout
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("%s: %v", p.label, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("%s: %v", p.label, err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: starting %q: %v", p.label, im.argv, err)
	}
	p.cmd, p.stdin = cmd, stdin
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
		for sc.Scan() {
			p.lines <- bytes.Clone(sc.Bytes())
		}
		p.readErr = sc.Err()
		close(p.lines)
		// Wait only after stdout has been read to the end (os/exec rule).
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			select {
			case <-p.exited:
			case <-time.After(exitTimeout):
				t.Errorf("%s: process %d did not exit after kill", p.label, p.cmd.Process.Pid)
			}
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.label, p.stderr.String())
		}
	})
	return p
}

// fatalf fails the test for a protocol violation or a peer crash.
func (p *peer) fatalf(format string, args ...any) {
	p.t.Helper()
	p.t.Fatalf("%s: %s", p.label, fmt.Sprintf(format, args...))
}

// call sends one request and waits for its response. It returns an *opError
// for an ok:false response and fails the test on any protocol violation
// (timeout, malformed or mismatched response, process exit). If out is not
// nil the response object is decoded into it.
func (p *peer) call(op string, args any, out any) error {
	p.t.Helper()
	p.nextID++
	id := p.nextID
	line, err := encodeRequest(id, op, args)
	if err != nil {
		p.fatalf("encoding %s request: %v", op, err)
	}
	if _, err := p.stdin.Write(line); err != nil {
		p.fatalf("writing %s request: %v", op, err)
	}
	timer := time.NewTimer(callTimeout)
	defer timer.Stop()
	var resp []byte
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.fatalf("stdout closed while waiting for the %s response (id %d): read error: %v; process: %s",
				op, id, p.readErr, p.waitStatus())
		}
		resp = l
	case <-timer.C:
		p.fatalf("no response to %s (id %d) within %v", op, id, callTimeout)
	}
	var env struct {
		ID    *int    `json:"id"`
		OK    *bool   `json:"ok"`
		Error *string `json:"error"`
		Code  string  `json:"code"`
	}
	if err := json.Unmarshal(resp, &env); err != nil {
		p.fatalf("%s (id %d): response is not a JSON object: %v: %.300q", op, id, err, resp)
	}
	if env.ID == nil || *env.ID != id {
		p.fatalf("%s: response id mismatch: want %d: %.300s", op, id, resp)
	}
	if env.OK == nil {
		p.fatalf("%s (id %d): response without ok: %.300s", op, id, resp)
	}
	if !*env.OK {
		if env.Error == nil || *env.Error == "" {
			p.fatalf("%s (id %d): ok:false without an error message: %.300s", op, id, resp)
		}
		return &opError{Op: op, Msg: *env.Error, Code: env.Code}
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			p.fatalf("%s (id %d): decoding response: %v: %.300s", op, id, err, resp)
		}
	}
	return nil
}

// waitStatus returns the process exit status if it has exited by now.
func (p *peer) waitStatus() string {
	select {
	case <-p.exited:
		if p.waitErr == nil {
			return "exit status 0"
		}
		return p.waitErr.Error()
	case <-time.After(2 * time.Second):
		return "still running"
	}
}

// encodeRequest builds `{"id":N,"op":"...",<args fields>}\n`.
func encodeRequest(id int, op string, args any) ([]byte, error) {
	var line bytes.Buffer
	fmt.Fprintf(&line, `{"id":%d,"op":%q`, id, op)
	if args != nil {
		a, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		if len(a) < 2 || a[0] != '{' || a[len(a)-1] != '}' {
			return nil, fmt.Errorf("args %T do not encode to a JSON object", args)
		}
		if inner := a[1 : len(a)-1]; len(inner) > 0 {
			line.WriteByte(',')
			line.Write(inner)
		}
	}
	line.WriteString("}\n")
	return line.Bytes(), nil
}

// ---------------------------------------------------------------------------
// Typed operations

// newACI returns a random version-4 UUID, as string and as 16 bytes.
func newACI() (string, []byte) {
	u := make([]byte, 16)
	rand.Read(u)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], u
}

// aciBytes returns the 16 UUID bytes of an address's name.
func aciBytes(t testing.TB, a Address) []byte {
	t.Helper()
	b, err := uuidBytes(a.Name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newPeer starts a peer and initializes it with a fresh ACI address.
func newPeer(t testing.TB, im impl, label string, deviceID int) *peer {
	t.Helper()
	p := startPeer(t, im, label)
	name, _ := newACI()
	p.init(Address{Name: name, DeviceID: deviceID})
	return p
}

// init (re)initializes the peer: fresh identity key and registration id.
func (p *peer) init(addr Address) {
	p.t.Helper()
	var r struct {
		IdentityPublic []byte  `json:"identityPublic"`
		RegistrationID *uint32 `json:"registrationId"`
	}
	if err := p.call("init", map[string]any{"address": addr}, &r); err != nil {
		p.fatalf("%v", err)
	}
	if !isECPublic(r.IdentityPublic) {
		p.fatalf("init: identityPublic is not a 33-byte 0x05 key: %x", r.IdentityPublic)
	}
	if r.RegistrationID == nil || *r.RegistrationID == 0 {
		p.fatalf("init: missing or zero registrationId")
	}
	p.addr, p.identity, p.regID = addr, r.IdentityPublic, *r.RegistrationID
}

func isECPublic(k []byte) bool { return len(k) == 33 && k[0] == 0x05 }

// generatePreKeys asks for a bundle; preKeyID 0 means "no one-time prekey".
// The bundle is checked for consistency with the peer's init results.
func (p *peer) generatePreKeys(preKeyID, signedPreKeyID, kyberPreKeyID uint32) Bundle {
	p.t.Helper()
	args := map[string]any{"signedPreKeyId": signedPreKeyID, "kyberPreKeyId": kyberPreKeyID}
	if preKeyID != 0 {
		args["preKeyId"] = preKeyID
	}
	var r struct {
		Bundle *Bundle `json:"bundle"`
	}
	if err := p.call("generatePreKeys", args, &r); err != nil {
		p.fatalf("%v", err)
	}
	if r.Bundle == nil {
		p.fatalf("generatePreKeys: no bundle in response")
	}
	b := *r.Bundle
	var problems []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	check(b.RegistrationID == p.regID, "registrationId %d, init said %d", b.RegistrationID, p.regID)
	check(b.DeviceID == p.addr.DeviceID, "deviceId %d, address has %d", b.DeviceID, p.addr.DeviceID)
	check(bytes.Equal(b.IdentityKey, p.identity), "identityKey %x is not the identity from init %x", b.IdentityKey, p.identity)
	if preKeyID != 0 {
		check(b.PreKeyID != nil && *b.PreKeyID == preKeyID, "preKeyId %v, want %d", b.PreKeyID, preKeyID)
		check(isECPublic(b.PreKeyPublic), "preKeyPublic is not a 33-byte 0x05 key: %x", b.PreKeyPublic)
	} else {
		check(b.PreKeyID == nil && b.PreKeyPublic == nil, "one-time prekey present although none was asked for")
	}
	check(b.SignedPreKeyID == signedPreKeyID, "signedPreKeyId %d, want %d", b.SignedPreKeyID, signedPreKeyID)
	check(isECPublic(b.SignedPreKeyPublic), "signedPreKeyPublic is not a 33-byte 0x05 key: %x", b.SignedPreKeyPublic)
	check(len(b.SignedPreKeySignature) == 64, "signedPreKeySignature has %d bytes, want 64", len(b.SignedPreKeySignature))
	check(b.KyberPreKeyID == kyberPreKeyID, "kyberPreKeyId %d, want %d", b.KyberPreKeyID, kyberPreKeyID)
	check(len(b.KyberPreKeyPublic) == 1569 && b.KyberPreKeyPublic[0] == 0x08,
		"kyberPreKeyPublic is not a 1569-byte Kyber1024 (0x08) key (%d bytes)", len(b.KyberPreKeyPublic))
	check(len(b.KyberPreKeySignature) == 64, "kyberPreKeySignature has %d bytes, want 64", len(b.KyberPreKeySignature))
	if len(problems) > 0 {
		p.fatalf("generatePreKeys: bad bundle:\n\t%s", strings.Join(problems, "\n\t"))
	}
	return b
}

// processBundle builds a session with remote from its bundle.
func (p *peer) processBundle(remote Address, b Bundle) error {
	p.t.Helper()
	return p.call("processBundle", map[string]any{"remote": remote, "bundle": b}, nil)
}

func (p *peer) mustProcessBundle(remote *peer, b Bundle) {
	p.t.Helper()
	if err := p.processBundle(remote.addr, b); err != nil {
		p.fatalf("processing the bundle of %s: %v", remote.label, err)
	}
}

// encrypt encrypts plaintext for remote and checks the message's framing.
func (p *peer) encrypt(remote *peer, plaintext []byte) Ciphertext {
	p.t.Helper()
	var ct Ciphertext
	if err := p.call("encrypt", map[string]any{"remote": remote.addr, "plaintext": plaintext}, &ct); err != nil {
		p.fatalf("encrypting for %s: %v", remote.label, err)
	}
	if err := checkMessage(ct, p, remote); err != nil {
		p.fatalf("encrypt for %s produced a malformed message: %v", remote.label, err)
	}
	return ct
}

// decrypt decrypts a message from remote.
func (p *peer) decrypt(remote *peer, ct Ciphertext) ([]byte, error) {
	p.t.Helper()
	var r struct {
		Plaintext *[]byte `json:"plaintext"`
	}
	if err := p.call("decrypt", map[string]any{"remote": remote.addr, "type": ct.Type, "ciphertext": ct.Body}, &r); err != nil {
		return nil, err
	}
	if r.Plaintext == nil {
		p.fatalf("decrypt: response without plaintext")
	}
	return *r.Plaintext, nil
}

// mustDecrypt decrypts a message from remote and checks the plaintext.
func (p *peer) mustDecrypt(remote *peer, ct Ciphertext, want []byte, what string) {
	p.t.Helper()
	got, err := p.decrypt(remote, ct)
	if err != nil {
		p.fatalf("decrypting %s from %s: %v", what, remote.label, err)
	}
	if !bytes.Equal(got, want) {
		p.fatalf("decrypting %s from %s: plaintext mismatch:\n\tgot  %.120q\n\twant %.120q", what, remote.label, got, want)
	}
}

// mustReject decrypts a message that must be rejected.
func (p *peer) mustReject(remote *peer, ct Ciphertext, what string) *opError {
	p.t.Helper()
	got, err := p.decrypt(remote, ct)
	if err == nil {
		p.fatalf("%s from %s was accepted (plaintext %.80q), want rejection", what, remote.label, got)
	}
	p.t.Logf("%s: %s rejected as expected: %v", p.label, what, err)
	return err.(*opError)
}

// send encrypts at from and immediately decrypts at to, returning the message.
func send(from, to *peer, plaintext []byte) Ciphertext {
	from.t.Helper()
	ct := from.encrypt(to, plaintext)
	to.mustDecrypt(from, ct, plaintext, fmt.Sprintf("%q", plaintext))
	return ct
}

// fingerprint computes the safety number of p with remote.
func (p *peer) fingerprint(iterations, version int, localID, remoteID, remoteKey []byte) (displayable string, scannable []byte) {
	p.t.Helper()
	var r struct {
		Displayable string `json:"displayable"`
		Scannable   []byte `json:"scannable"`
	}
	err := p.call("fingerprint", map[string]any{
		"iterations": iterations, "version": version,
		"localId": localID, "remoteId": remoteID, "remoteKey": remoteKey,
	}, &r)
	if err != nil {
		p.fatalf("%v", err)
	}
	return r.Displayable, r.Scannable
}

// quit asks the peer to exit and checks that it does, cleanly and without
// further output.
func (p *peer) quit() {
	p.t.Helper()
	if err := p.call("quit", nil, nil); err != nil {
		p.fatalf("%v", err)
	}
	select {
	case l, ok := <-p.lines:
		if ok {
			p.fatalf("output after the quit response: %.300q", l)
		}
	case <-time.After(exitTimeout):
		p.fatalf("stdout not closed %v after quit", exitTimeout)
	}
	select {
	case <-p.exited:
		if p.waitErr != nil {
			p.fatalf("after quit: %v", p.waitErr)
		}
	case <-time.After(exitTimeout):
		p.fatalf("process still running %v after quit", exitTimeout)
	}
}
