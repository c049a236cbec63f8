package store

import "go.mongodb.org/mongo-driver/v2/mongo"

// SetBackend tells the store what the server behind client can do, as
// OpenMongo does, so that a test may take each path of a helper.
func SetBackend(client *mongo.Client, b Backend) { rememberBackend(client, b) }
