package main

import (
	"errors"
	"slices"
	"testing"
)

func TestCleanupLIFO(t *testing.T) {
	var c cleanup
	var order []string
	errB := errors.New("b failed")
	errD := errors.New("d failed")
	for _, name := range []string{"a", "b", "c", "d"} {
		c.push(func() error {
			order = append(order, name)
			switch name {
			case "b":
				return errB
			case "d":
				return errD
			}
			return nil
		})
	}
	err := c.close()
	if want := []string{"d", "c", "b", "a"}; !slices.Equal(order, want) {
		t.Errorf("closed in order %v, want %v", order, want)
	}
	if !errors.Is(err, errB) || !errors.Is(err, errD) {
		t.Errorf("close = %v, want both errors joined", err)
	}
	order = nil
	if err := c.close(); err != nil || order != nil {
		t.Errorf("second close = %v, called %v; want nothing", err, order)
	}
}
