//go:build ignore

// gen draws the app's icons: a red square with a yellow star, the colours
// of the flag, in the sizes the web app manifest names.
//
//	go run ./api/app/icons/gen.go api/app/web
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

func main() {
	for _, size := range []int{192, 512} {
		img := image.NewRGBA(image.Rect(0, 0, size, size))
		red, yellow := color.RGBA{0xb3, 0x26, 0x1e, 0xff}, color.RGBA{0xff, 0xcd, 0x00, 0xff}
		// The star inside the middle 60%, so that a maskable crop keeps it.
		c, outer := float64(size)/2, float64(size)*0.3
		var pts [][2]float64
		for k := 0; k < 10; k++ {
			r := outer
			if k%2 == 1 {
				r = outer * 0.382
			}
			a := -math.Pi/2 + float64(k)*math.Pi/5
			pts = append(pts, [2]float64{c + r*math.Cos(a), c + r*math.Sin(a)})
		}
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				img.Set(x, y, red)
				if inside(float64(x)+0.5, float64(y)+0.5, pts) {
					img.Set(x, y, yellow)
				}
			}
		}
		f, err := os.Create(filepath.Join(os.Args[1], fmt.Sprintf("icon-%d.png", size)))
		if err == nil {
			err = png.Encode(f, img)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func inside(x, y float64, pts [][2]float64) bool {
	in := false
	for i, j := 0, len(pts)-1; i < len(pts); j, i = i, i+1 {
		a, b := pts[i], pts[j]
		if (a[1] > y) != (b[1] > y) && x < (b[0]-a[0])*(y-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}
