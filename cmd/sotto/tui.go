package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/sotto-im/sotto/internal/chat"
)

// tuiChat runs the full-screen chat UI until the user quits or ctx ends.
func tuiChat(ctx context.Context, c *chat.Client, relayURL string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := &model{ctx: ctx, c: c, relayURL: relayURL, status: "connecting to " + relayURL}
	p := tea.NewProgram(m, tea.WithContext(ctx))
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		c.Run(ctx, func(ev chat.Event) { p.Send(eventMsg{ev}) })
	}()
	_, err := p.Run()
	cancel()
	<-runDone
	if err == tea.ErrProgramKilled || err == tea.ErrInterrupted {
		return nil
	}
	return err
}

type screen uint8

const (
	screenChat screen = iota
	screenVerify
)

// model is the UI's state. Every store access runs in a tea.Cmd, off the
// UI goroutine.
type model struct {
	ctx      context.Context
	c        *chat.Client
	relayURL string

	width, height int
	contacts      []chat.Contact
	extra         []string // contacts opened with /open, before any message
	selected      string
	history       []*chat.Message
	input         []rune
	status        string
	connected     bool

	screen screen
	verify verifyView
}

type verifyView struct {
	peer     string
	digits   string
	qr       string
	verified bool
	pending  string // digits of a changed identity key awaiting /trust
	key      []byte // that key: what t (or /trust) accepts
	err      string
}

// Messages.
type (
	eventMsg   struct{ ev chat.Event }
	refreshMsg struct {
		contacts []chat.Contact
		history  []*chat.Message
		err      error
	}
	statusMsg string
	verifyMsg struct{ v verifyView }
)

func (m *model) Init() tea.Cmd { return m.refresh() }

func (m *model) refresh() tea.Cmd {
	peer := m.selected
	return func() tea.Msg {
		cs, err := m.c.Contacts(m.ctx)
		if err != nil {
			return refreshMsg{err: err}
		}
		var h []*chat.Message
		if peer != "" {
			h, err = m.c.History(m.ctx, peer, 200)
		}
		return refreshMsg{contacts: cs, history: h, err: err}
	}
}

// names is the contacts list: stored contacts, then ones opened by hand.
func (m *model) names() []string {
	var out []string
	for _, k := range m.contacts {
		out = append(out, k.Name)
	}
	for _, e := range m.extra {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case eventMsg:
		return m, m.onEvent(msg.ev)
	case refreshMsg:
		if msg.err != nil {
			m.status = "! " + oneLine(msg.err.Error())
			return m, nil
		}
		m.contacts = msg.contacts
		if m.selected == "" && len(m.contacts) > 0 {
			m.selected = m.contacts[0].Name
			return m, m.refresh()
		}
		m.history = msg.history
	case statusMsg:
		m.status = string(msg)
		return m, m.refresh()
	case verifyMsg:
		m.verify = msg.v
		m.screen = screenVerify
	case tea.PasteMsg:
		m.input = append(m.input, []rune(strings.ReplaceAll(msg.Content, "\n", " "))...)
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	}
	return m, nil
}

func (m *model) onEvent(ev chat.Event) tea.Cmd {
	switch ev.Kind {
	case chat.EventConnected:
		m.connected = true
		m.status = "connected to " + m.relayURL
	case chat.EventError:
		m.connected = false
		m.status = "! " + oneLine(ev.Err.Error())
	case chat.EventMessage:
		if m.selected == "" {
			m.selected = ev.Peer
		}
		if ev.Peer != m.selected {
			m.status = "new message from " + ev.Peer
		}
	case chat.EventIdentityChanged:
		m.status = "! identity key of " + ev.Peer + " changed: messages held; /verify " + ev.Peer + ", then /trust " + ev.Peer
	case chat.EventFailed:
		m.status = "! rejected a message from " + ev.Peer + ": " + oneLine(ev.Err.Error())
	}
	return m.refresh()
}

func (m *model) onKey(k tea.KeyPressMsg) tea.Cmd {
	if m.screen == screenVerify {
		switch k.String() {
		case "esc", "q", "enter":
			m.screen = screenChat
		case "v":
			return m.setVerified(m.verify.peer, !m.verify.verified)
		case "t", "r":
			if m.verify.key != nil {
				m.screen = screenChat
				peer, key := m.verify.peer, m.verify.key
				m.verify.pending, m.verify.key = "", nil // one decision per comparison
				if k.String() == "r" {
					return m.reject(peer, key)
				}
				return m.trust(peer, key)
			}
		case "ctrl+c":
			return tea.Quit
		}
		return nil
	}
	switch k.String() {
	case "ctrl+c", "ctrl+d":
		return tea.Quit
	case "esc":
		m.input = m.input[:0]
	case "up", "shift+tab":
		m.move(-1)
		return m.refresh()
	case "down", "tab":
		m.move(1)
		return m.refresh()
	case "ctrl+v":
		if m.selected != "" {
			return m.openVerify(m.selected)
		}
	case "enter":
		line := strings.TrimSpace(string(m.input))
		m.input = m.input[:0]
		return m.submit(line)
	case "backspace":
		if len(m.input) > 0 {
			m.input = m.input[:len(m.input)-1]
		}
	case "ctrl+u":
		m.input = m.input[:0]
	default:
		if k.Text != "" {
			m.input = append(m.input, []rune(k.Text)...)
		}
	}
	return nil
}

func (m *model) move(d int) {
	names := m.names()
	if len(names) == 0 {
		return
	}
	i := slices.Index(names, m.selected)
	i = (i + d + len(names)) % len(names)
	m.selected = names[i]
}

// submit runs a line of input: a command, or text for the selected
// contact.
func (m *model) submit(line string) tea.Cmd {
	if line == "" {
		return nil
	}
	if !strings.HasPrefix(line, "/") {
		if m.selected == "" {
			m.status = "! no contact selected: /open NAME or /msg NAME TEXT"
			return nil
		}
		return m.send(m.selected, line)
	}
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch cmd {
	case "/quit", "/exit":
		return tea.Quit
	case "/msg":
		peer, text, _ := strings.Cut(rest, " ")
		if peer == "" || strings.TrimSpace(text) == "" {
			m.status = "! usage: /msg NAME TEXT"
			return nil
		}
		m.open(peer)
		return tea.Batch(m.send(peer, text), m.refresh())
	case "/open":
		if !chat.ValidName(rest) {
			m.status = "! " + chat.ErrInvalidName.Error()
			return nil
		}
		m.open(rest)
		return m.refresh()
	case "/verify":
		if rest == "" {
			rest = m.selected
		}
		return m.openVerify(rest)
	case "/trust", "/reject":
		if rest == "" {
			rest = m.selected
		}
		// Only the key whose safety number the verify screen showed.
		if m.verify.peer != rest || m.verify.key == nil {
			m.status = "! no changed identity key of " + rest + " shown yet: /verify " + rest + " first and compare the safety number"
			return nil
		}
		key := m.verify.key
		m.verify.pending, m.verify.key = "", nil
		if cmd == "/reject" {
			return m.reject(rest, key)
		}
		return m.trust(rest, key)
	}
	m.status = "! unknown command: /msg NAME TEXT, /open NAME, /verify [NAME], /trust [NAME], /reject [NAME], /quit"
	return nil
}

func (m *model) open(peer string) {
	if !slices.Contains(m.extra, peer) {
		m.extra = append(m.extra, peer)
	}
	m.selected = peer
}

func (m *model) send(peer, text string) tea.Cmd {
	return func() tea.Msg {
		msg, err := m.c.Send(m.ctx, peer, text)
		if err != nil {
			return statusMsg("! not sent to " + peer + ": " + oneLine(err.Error()))
		}
		return statusMsg(msg.State.String() + " to " + peer)
	}
}

func (m *model) trust(peer string, key []byte) tea.Cmd {
	return func() tea.Msg {
		evs, err := m.c.TrustIdentity(m.ctx, peer, key)
		if err != nil {
			return statusMsg("! " + oneLine(err.Error()))
		}
		return statusMsg(fmt.Sprintf("trusted the new identity key of %s; %d held message(s) released", peer, len(evs)))
	}
}

func (m *model) reject(peer string, key []byte) tea.Cmd {
	return func() tea.Msg {
		n, err := m.c.RejectIdentity(m.ctx, peer, key)
		if err != nil {
			return statusMsg("! " + oneLine(err.Error()))
		}
		return statusMsg(fmt.Sprintf("discarded the new identity key of %s; %d held message(s) dropped", peer, n))
	}
}

func (m *model) setVerified(peer string, v bool) tea.Cmd {
	return func() tea.Msg {
		if err := m.c.SetVerified(m.ctx, peer, v); err != nil {
			return statusMsg("! " + oneLine(err.Error()))
		}
		return m.verifyOf(peer)
	}
}

func (m *model) openVerify(peer string) tea.Cmd {
	return func() tea.Msg { return m.verifyOf(peer) }
}

func (m *model) verifyOf(peer string) tea.Msg {
	v := verifyView{peer: peer}
	fp, err := m.c.SafetyNumber(m.ctx, peer)
	if err != nil {
		v.err = "no safety number yet: exchange a message first (" + oneLine(err.Error()) + ")"
	} else {
		v.digits = fp.Displayable()
		if q, err := qrText(v.digits); err == nil {
			v.qr = q
		}
	}
	if p, key, err := m.c.PendingSafetyNumber(m.ctx, peer); err == nil {
		v.pending, v.key = p.Displayable(), key
	}
	cs, _ := m.c.Contacts(m.ctx)
	for _, k := range cs {
		if k.Name == peer {
			v.verified = k.Verified
		}
	}
	return verifyMsg{v}
}

// View draws the screen.
func (m *model) View() tea.View {
	var s string
	if m.screen == screenVerify {
		s = m.viewVerify()
	} else {
		s = m.viewChat()
	}
	v := tea.NewView(s)
	v.AltScreen = true
	v.WindowTitle = "sotto: " + m.c.Name()
	return v
}

const (
	reverse = "\x1b[7m"
	bold    = "\x1b[1m"
	dim     = "\x1b[2m"
	reset   = "\x1b[0m"
)

func (m *model) viewChat() string {
	w, h := max(m.width, 40), max(m.height, 10)
	left := 20
	right := w - left - 3
	body := h - 4 // title, separator, status, input

	// Left: contacts.
	var contacts []string
	for _, n := range m.names() {
		mark := " "
		for _, k := range m.contacts {
			if k.Name == n {
				switch {
				case k.IdentityChanged:
					mark = "!"
				case k.Verified:
					mark = "✓"
				}
			}
		}
		line := pad(mark+" "+n, left)
		if n == m.selected {
			line = reverse + line + reset
		}
		contacts = append(contacts, line)
	}
	if len(contacts) == 0 {
		contacts = append(contacts, dim+pad("(no contacts)", left)+reset, dim+pad("/open NAME", left)+reset)
	}

	// Right: the conversation, newest at the bottom, wrapped.
	var conv []string
	for _, msg := range m.history {
		who := msg.Peer
		if msg.Outgoing {
			who = "you"
		}
		head := fmt.Sprintf("%s %s: ", msg.Sent.Local().Format("15:04"), who)
		text := sanitize(msg.Text)
		if msg.Outgoing {
			text += " " + dim + stateMark(msg.State) + reset
		}
		conv = append(conv, wrap(head+text, right)...)
	}
	if len(conv) > body {
		conv = conv[len(conv)-body:]
	}
	for len(conv) < body {
		conv = append([]string{""}, conv...)
	}

	var b strings.Builder
	conn := "offline"
	if m.connected {
		conn = "online"
	}
	title := fmt.Sprintf(" sotto · %s · %s · %s", m.c.Name(), conn, m.selected)
	b.WriteString(bold + pad(title, w) + reset + "\n")
	for i := range body {
		l := ""
		if i < len(contacts) {
			l = contacts[i]
		} else {
			l = strings.Repeat(" ", left)
		}
		b.WriteString(l + " │ " + conv[i] + "\n")
	}
	b.WriteString(dim + pad(" "+m.status, w) + reset + "\n")
	b.WriteString(dim + "↑↓ contact  ^V verify  ^C quit  " + reset + "\n")
	b.WriteString("> " + string(m.input) + "█")
	return b.String()
}

func (m *model) viewVerify() string {
	v := m.verify
	var b strings.Builder
	fmt.Fprintf(&b, "%sSafety number with %s%s\n\n", bold, v.peer, reset)
	if v.err != "" {
		b.WriteString(v.err + "\n")
	} else {
		b.WriteString("Compare these digits with the ones on " + v.peer + "'s screen, in person or\n")
		b.WriteString("over a channel you trust. If they match, no one is in the middle.\n\n")
		for i := 0; i < len(v.digits); i += 20 {
			b.WriteString("    " + groupDigits(v.digits[i:min(i+20, len(v.digits))]) + "\n")
		}
		b.WriteString("\n" + v.qr + "\n")
		if v.verified {
			b.WriteString("Marked as verified. Press v to clear the mark.\n")
		} else {
			b.WriteString("Not verified yet. Press v once you have compared them.\n")
		}
	}
	if v.pending != "" {
		b.WriteString("\n! " + v.peer + "'s identity key has CHANGED. With the new key the number would be:\n")
		for i := 0; i < len(v.pending); i += 20 {
			b.WriteString("    " + groupDigits(v.pending[i:min(i+20, len(v.pending))]) + "\n")
		}
		b.WriteString("Press t to accept the new key if these digits match (its held messages are\n")
		b.WriteString("then shown), r to discard it if they do not.\n")
	}
	b.WriteString("\nesc: back")
	return b.String()
}

func stateMark(s chat.State) string {
	switch s {
	case chat.StateQueued:
		return "… queued"
	case chat.StateSent:
		return "✓ sent"
	case chat.StateDelivered:
		return "✓✓ delivered"
	case chat.StateFailed:
		return "✗ failed"
	}
	return ""
}

// pad cuts or pads s (which has no escape sequences) to n columns.
func pad(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s + strings.Repeat(" ", n-len(r))
}

// wrap breaks s into lines of at most n runes. Escape sequences are rare
// here (the state mark) and counted as if printed; lines may fall short.
func wrap(s string, n int) []string {
	if n < 10 {
		n = 10
	}
	var out []string
	r := []rune(s)
	for len(r) > n {
		cut := n
		if i := lastSpace(r[:n]); i > n/2 {
			cut = i + 1
		}
		out = append(out, string(r[:cut]))
		r = r[cut:]
	}
	return append(out, string(r))
}

func lastSpace(r []rune) int {
	for i := len(r) - 1; i >= 0; i-- {
		if r[i] == ' ' {
			return i
		}
	}
	return -1
}
