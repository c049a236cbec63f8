// Package people is the registry of who uses the service and where they
// belong: signed-in users with their role and union branch (the source of
// every authorisation decision, never token claims), and later the union
// hierarchy, volunteers, households and their consent.
package people
