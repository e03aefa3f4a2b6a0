package dht

import (
	"errors"
	"fmt"
	"os"

	"github.com/ipfs/go-datastore"
	leveldb "github.com/ipfs/go-ds-leveldb"
)

// OpenDatastore opens (creating it if needed, mode 0700) a LevelDB datastore
// in dir, for Config.Datastore: a DHT server given it keeps the records it
// stores across restarts. Writes are synced. Only one process can have it
// open. Close it after the Node that uses it.
func OpenDatastore(dir string) (datastore.Batching, error) {
	if dir == "" {
		// go-ds-leveldb would silently make an in-memory store.
		return nil, errors.New("dht: empty datastore directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dht: create datastore directory: %w", err)
	}
	ds, err := leveldb.NewDatastore(dir, nil)
	if err != nil {
		return nil, fmt.Errorf("dht: open datastore %s (is another node using it?): %w", dir, err)
	}
	return ds, nil
}
