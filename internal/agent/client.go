package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"sync"
)

// Conn is the caller's side of a connection to the control socket: calls
// in any number from any goroutine, and the events of a subscription.
type Conn struct {
	c       net.Conn
	wmu     sync.Mutex
	mu      sync.Mutex
	next    int
	pending map[string]chan Response
	events  chan Event
	done    chan struct{}
	err     error // why the connection ended, once done is closed
}

// rawResponse is a response as read: its result stays raw until the
// caller's type is known.
type rawResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Result  json.RawMessage `json:"result"`
	Error   *Error          `json:"error"`
	Params  json.RawMessage `json:"params"`
}

// ErrClosed: the connection to the agent ended (the agent stopped).
var ErrClosed = errors.New("agent: the connection to the running dhtchat ended")

// Connect dials the control socket at path; see Dial.
func Connect(path string) (*Conn, error) {
	nc, err := Dial(path)
	if err != nil {
		return nil, err
	}
	c := &Conn{c: nc, pending: map[string]chan Response{}, events: make(chan Event, 1024), done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *Conn) read() {
	r := bufio.NewReaderSize(c.c, 64<<10)
	var err error
	for {
		var line []byte
		if line, err = readLine(r); err != nil {
			break
		}
		var m rawResponse
		if json.Unmarshal(line, &m) != nil {
			continue
		}
		if m.Method == "event" {
			var e Event
			if json.Unmarshal(m.Params, &e) == nil {
				select {
				case c.events <- e:
				default: // a reader that falls behind loses hints, never the connection
				}
			}
			continue
		}
		c.mu.Lock()
		ch := c.pending[string(m.ID)]
		delete(c.pending, string(m.ID))
		c.mu.Unlock()
		if ch != nil {
			ch <- Response{ID: m.ID, Result: m.Result, Error: m.Error}
		}
	}
	c.mu.Lock()
	c.err = ErrClosed
	c.mu.Unlock()
	close(c.done)
	close(c.events)
}

// Call calls method with params and decodes its result into result (if
// not nil). A JSON-RPC error is returned as *Error.
func (c *Conn) Call(ctx context.Context, method string, params, result any) error {
	c.mu.Lock()
	c.next++
	n := c.next
	id := strconv.Itoa(n)
	ch := make(chan Response, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	b, err := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		ID      int    `json:"id"`
		Method  string `json:"method"`
		Params  any    `json:"params,omitempty"`
	}{"2.0", n, method, params})
	if err != nil {
		return err
	}
	c.wmu.Lock()
	_, err = c.c.Write(append(b, '\n'))
	c.wmu.Unlock()
	if err != nil {
		return ErrClosed
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return r.Error
		}
		if result != nil {
			return json.Unmarshal(r.Result.(json.RawMessage), result)
		}
		return nil
	case <-c.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Subscribe asks for the events; they come on Events.
func (c *Conn) Subscribe(ctx context.Context) error {
	return c.Call(ctx, "subscribe", nil, nil)
}

// Events returns the events of the subscription. It is closed when the
// connection ends.
func (c *Conn) Events() <-chan Event { return c.events }

// Done is closed when the connection ends.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }
