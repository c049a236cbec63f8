package store

import (
	"crypto/rand"
	"encoding/hex"
)

// NewID makes a random id for a stored document, with a prefix that says
// what it is ("hh_3f9a0c1b2d4e5f60" is a household): 64 random bits, from
// the operating system's generator.
func NewID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
