package kvstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/trantor/client"
)

// Client is a typed client of the store, over a Trantor client
// (pkg/trantor/client): each call is one transaction, answered once f+1
// nodes returned the same result.
type Client struct {
	c *client.Client
}

// Dial returns a client of the store replicated on nodes (host:port of
// their client servers), of which at most f are faulty. opts.ClientID is
// required.
func Dial(nodes []string, f int, opts client.Options) (*Client, error) {
	c, err := client.Dial(nodes, f, opts)
	if err != nil {
		return nil, fmt.Errorf("kvstore: %w", err)
	}
	return &Client{c: c}, nil
}

// Close closes the client's connections.
func (c *Client) Close() error { return c.c.Close() }

// ErrInvalid is returned for an operation the store refused as invalid
// (which a Client does not send: a store of another version?).
var ErrInvalid = errors.New("kvstore: the store refused the operation as invalid")

// ErrFull is returned for a write the store refused: its state is at its
// bound.
var ErrFull = errors.New("kvstore: the store is full")

// Put sets key to value; the empty value deletes key.
func (c *Client) Put(ctx context.Context, key, value []byte) error {
	_, err := c.do(ctx, Op{Kind: Put, Key: key, Value: value})
	return err
}

// Get returns key's value (empty if it has none).
func (c *Client) Get(ctx context.Context, key []byte) ([]byte, error) {
	r, err := c.do(ctx, Op{Kind: Get, Key: key})
	return r.Value, err
}

// CAS sets key to value if it holds old, and reports whether it did, with
// key's value after the operation.
func (c *Client) CAS(ctx context.Context, key, old, value []byte) (swapped bool, current []byte, err error) {
	r, err := c.do(ctx, Op{Kind: CAS, Key: key, Old: old, Value: value})
	return err == nil && r.Status == OK, r.Value, err
}

// SetVoters decides the membership of a later epoch: ISS applies it
// ConfigOffset+1 epochs after the epoch that executes the operation.
func (c *Client) SetVoters(ctx context.Context, voters membership.Voters) error {
	_, err := c.do(ctx, Op{Kind: SetVoters, Voters: voters})
	return err
}

// do submits op and decodes its result.
func (c *Client) do(ctx context.Context, op Op) (Result, error) {
	data, err := op.Encode()
	if err != nil {
		return Result{}, err
	}
	res, err := c.c.Submit(ctx, data)
	if err != nil {
		return Result{}, fmt.Errorf("kvstore: %v: %w", op.Kind, err)
	}
	r, err := DecodeResult(res)
	switch {
	case err != nil:
		return Result{}, err
	case r.Status == Invalid:
		return Result{}, ErrInvalid
	case r.Status == Full:
		return Result{}, ErrFull
	}
	return r, nil
}
