package chat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sotto-im/sotto/internal/relay"
	"github.com/sotto-im/sotto/keystore/encrypted"
	"github.com/sotto-im/sotto/keystore/sqlite"
	"github.com/sotto-im/sotto/session"
)

// DeviceID is the device id of every chat account: one device per name.
const DeviceID = 1

// Transport is the relay connection a Client uses. *relay.Client
// implements it; tests put a hostile relay in front of it.
type Transport interface {
	Register(ctx context.Context) error
	UploadKeys(ctx context.Context, k *relay.Keys) error
	FetchBundle(ctx context.Context, of relay.Address) (*relay.Bundle, error)
	KeyCounts(ctx context.Context) (ec, kyber int, err error)
	Send(ctx context.Context, to relay.Address, typ uint8, body []byte) (id string, err error)
	Fetch(ctx context.Context) ([]relay.Envelope, error)
	Ack(ctx context.Context, id string) error
	Subscribe(ctx context.Context) (<-chan relay.Envelope, error)
}

var _ Transport = (*relay.Client)(nil)

// Config says how to open a Client. Open fills it from its arguments;
// OpenConfig takes it whole.
type Config struct {
	// DataDir holds the store, <DataDir>/<Name>.db. It is created (mode
	// 0700) if missing.
	DataDir string
	// Name is the account's name and address.
	Name string
	// Passphrase unlocks the store (argon2id, keystore/encrypted). It is
	// not kept.
	Passphrase []byte
	// RelayURL is the relay's base URL, such as http://127.0.0.1:8080.
	RelayURL string

	// KDF is the argon2id cost for a new store; nil means
	// keystore/encrypted's defaults (64 MiB, a quarter of a second). An
	// existing store is unlocked with the parameters it was created with.
	KDF *encrypted.Options
	// HTTPClient is used for the relay; nil means one without a global
	// timeout (each call has its own deadline; WebSocket connections live
	// long).
	HTTPClient *http.Client
	// Transport, if set, makes the relay connection instead of
	// relay.NewClient.
	Transport func(self relay.Address, signer relay.Signer) Transport
	// Poll makes Run poll the relay every PollInterval instead of
	// subscribing to pushed messages.
	Poll bool
	// PollInterval is Run's polling period and its longest wait before
	// reconnecting; 0 means 500 ms.
	PollInterval time.Duration
	// PreKeys and KyberPreKeys are how many one-time prekeys to publish
	// (0: 100 and 20); when the relay holds fewer than a fifth of that,
	// the client tops them up.
	PreKeys, KyberPreKeys int
}

// Client is one account's chat engine. Its methods may be called from
// several goroutines.
type Client struct {
	cfg   Config
	name  string
	self  session.Address
	db    *sqlite.Store
	store *encrypted.Store
	acct  *session.Account
	rc    Transport

	sessMu  sync.Mutex    // serializes session set-up
	outMu   sync.Mutex    // serializes outbox flushes, so messages leave in order
	keysMu  sync.Mutex    // serializes prekey top-ups
	trustMu sync.Mutex    // serializes TrustIdentity and RejectIdentity
	kick    chan struct{} // wakes Run's outbox flusher
	events  eventQueue    // to Run's handler
}

// callTimeout bounds each relay call but Subscribe.
const callTimeout = 30 * time.Second

// Open opens the account name in dataDir, creating it if it does not
// exist, registers it with the relay at relayURL and publishes its
// prekeys. See OpenConfig.
func Open(ctx context.Context, dataDir, name string, passphrase []byte, relayURL string) (*Client, error) {
	return OpenConfig(ctx, &Config{DataDir: dataDir, Name: name, Passphrase: passphrase, RelayURL: relayURL})
}

// ErrInvalidName is returned for a name that is not 1-32 characters of
// a-z, 0-9, '.', '_' and '-', starting with a letter or digit.
var ErrInvalidName = errors.New("chat: invalid name (use 1-32 of a-z 0-9 . _ -, starting with a letter or digit)")

// ValidName reports whether name can be an account name.
func ValidName(name string) bool {
	if len(name) == 0 || len(name) > 32 {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// OpenConfig is Open with every setting.
func OpenConfig(ctx context.Context, cfg *Config) (*Client, error) {
	c := &Client{cfg: *cfg, name: cfg.Name, kick: make(chan struct{}, 1)}
	c.events.init()
	c.cfg.Passphrase = nil
	if !ValidName(cfg.Name) {
		return nil, ErrInvalidName
	}
	if c.cfg.PollInterval <= 0 {
		c.cfg.PollInterval = 500 * time.Millisecond
	}
	if c.cfg.PreKeys <= 0 {
		c.cfg.PreKeys = 100
	}
	if c.cfg.KyberPreKeys <= 0 {
		c.cfg.KyberPreKeys = 20
	}
	c.self = session.Address{Name: cfg.Name, DeviceID: DeviceID}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	var err error
	if c.db, err = sqlite.Open(filepath.Join(cfg.DataDir, cfg.Name+".db")); err != nil {
		return nil, err
	}
	if err := c.open(ctx, cfg.Passphrase); err != nil {
		c.db.Close()
		return nil, err
	}
	return c, nil
}

func (c *Client) open(ctx context.Context, passphrase []byte) error {
	var err error
	if c.store, err = encrypted.OpenWithPassphrase(ctx, c.db, passphrase, c.cfg.KDF); err != nil {
		return err
	}
	created := false
	c.acct, err = session.OpenAccount(ctx, c.store)
	if errors.Is(err, session.ErrNoAccount) {
		c.acct, err = c.createAccount(ctx)
		created = true
	}
	if err != nil {
		return err
	}
	if got := c.acct.Address(); got != c.self {
		return fmt.Errorf("chat: store holds the account %s, not %s", got, c.self)
	}
	if err := pruneHandled(ctx, c.store, time.Now().Add(-handledKeep)); err != nil {
		return err
	}
	ra := relay.Address{Name: c.name, DeviceID: DeviceID}
	if c.cfg.Transport != nil {
		c.rc = c.cfg.Transport(ra, c.acct)
	} else {
		c.rc = relay.NewClient(c.cfg.RelayURL, ra, c.acct, c.cfg.HTTPClient)
	}
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := c.rc.Register(cctx); err != nil {
		return fmt.Errorf("chat: registering with the relay: %w", err)
	}
	// The signed and last-resort prekeys go up on every open: a relay that
	// lost its data gets them back.
	return c.publishKeys(cctx, created)
}

// createAccount makes the account and its long-lived prekeys.
func (c *Client) createAccount(ctx context.Context) (*session.Account, error) {
	a, err := session.CreateAccount(ctx, c.store, c.self)
	if err != nil {
		return nil, err
	}
	if _, err := a.GenerateSignedPreKey(ctx, 0); err != nil {
		return nil, err
	}
	if _, err := a.GenerateKyberPreKeys(ctx, 0, 1, true); err != nil {
		return nil, err
	}
	return a, nil
}

// Name returns the account's name.
func (c *Client) Name() string { return c.name }

// IdentityKey returns the account's identity public key.
func (c *Client) IdentityKey() []byte { return c.acct.IdentityKey() }

// Close closes the store. Run must have returned.
func (c *Client) Close() error { return c.db.Close() }

func (c *Client) addr(peer string) session.Address {
	return session.Address{Name: peer, DeviceID: DeviceID}
}

func relayAddr(peer string) relay.Address { return relay.Address{Name: peer, DeviceID: DeviceID} }

// emit queues ev for Run's handler, if Run is running. It never blocks, so
// a handler may call the Client's methods.
func (c *Client) emit(ev Event) { c.events.push(ev) }

// kickFlush wakes Run's outbox flusher.
func (c *Client) kickFlush() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}
