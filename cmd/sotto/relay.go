package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sotto-im/sotto/internal/relay"
)

func runRelay(args []string) error {
	fs := newFlagSet("relay", "[--listen ADDR] [--data DIR]",
		"Serve a Sotto relay: an untrusted mailbox for prekey bundles and ciphertext.\n"+
			"It runs until SIGINT or SIGTERM and logs each request (method, path, status,\n"+
			"response size, remote IP, duration; never bodies or headers) to standard error.")
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to listen on (port 0: any free port; the log says which)")
	data := fs.String("data", "sotto-relay", "`directory` of the relay's database, relay.db (created if missing)")
	rate := fs.Float64("rate", 0, "requests a second allowed to each address (0: the relay's default; negative: no limit)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	st, err := relay.OpenSQLite(filepath.Join(*data, "relay.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	srv := relay.NewServer(st, &relay.Options{
		RateLimit: *rate,
		OnError:   func(err error) { log.Error("relay internal error", "err", err) },
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		srv.Close()
		return err
	}
	hs := &http.Server{
		Handler:           logRequests(log, srv),
		ReadHeaderTimeout: 10 * time.Second,
		// ReadTimeout bounds reading a whole request, body included. It
		// cannot cut WebSockets short: net/http clears a connection's
		// deadlines when it is hijacked for the upgrade (and the relay
		// lifts them first anyway). The relay bounds writing each
		// response itself (Options.RequestTimeout), so WriteTimeout
		// stays unset.
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 120 * time.Second,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("relay listening", "url", "http://"+ln.Addr().String(), "data", *data)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("relay shutting down")
	srv.Close() // ends WebSocket connections
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("relay stopped")
	return nil
}

// logRequests logs one line per request: method, path (which holds the
// message id of an acknowledgement), status, response size, remote IP and
// duration. Never a body, never a header (tokens travel in them), never
// the query.
func logRequests(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.n, "remote", remoteIP(r.RemoteAddr), "duration", time.Since(start).Round(time.Microsecond))
	})
}

// remoteIP returns the IP address of a request's RemoteAddr, without the
// port.
func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// statusWriter records a response's status and size. Unwrap lets
// http.ResponseController and the WebSocket upgrade reach the connection.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush lets streamed responses through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
