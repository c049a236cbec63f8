//go:build race

package main

// raceSlowdown is how much slower the race detector makes the server
// (5 to 10 times here, more on a loaded CI machine): tests that stand for
// the default deadlines stretch them by it.
const raceSlowdown = 6
