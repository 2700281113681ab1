package chart

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The font: basicfont's 7×13 face, which has printable ASCII only.
var face = basicfont.Face7x13

const (
	glyphAscent = 11 // pixels above the baseline
	glyphHeight = 13 // ascent plus descent
)

// ascii stands in for the few non-ASCII characters labels tend to have, which the face lacks.
var ascii = strings.NewReplacer("–", "-", "—", "-", "−", "-", "×", "x", "µ", "u", "…", "...", "’", "'", "‘", "'", "“", `"`, "”", `"`)

// textWidth is the width of s in pixels at scale 1.
func textWidth(s string) int {
	return font.MeasureString(face, ascii.Replace(s)).Ceil()
}

// textMask renders s into an alpha mask of its own size (baseline at glyphAscent).
func textMask(s string) *image.Alpha {
	s = ascii.Replace(s)
	mask := image.NewAlpha(image.Rect(0, 0, max(1, textWidth(s)), glyphHeight))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, glyphAscent)}
	d.DrawString(s)
	return mask
}

// drawText draws s with its top left corner at (x, top), each font pixel scale×scale pixels.
func drawText(img *image.RGBA, x, top int, s string, col color.RGBA, scale int) {
	if s == "" {
		return
	}
	mask := textMask(s)
	b := mask.Bounds()
	for my := b.Min.Y; my < b.Max.Y; my++ {
		for mx := b.Min.X; mx < b.Max.X; mx++ {
			if mask.AlphaAt(mx, my).A < 0x80 {
				continue
			}
			fill(img, image.Rect(x+mx*scale, top+my*scale, x+(mx+1)*scale, top+(my+1)*scale), col)
		}
	}
}

// drawTextUp draws s turned a quarter left, reading upwards, from (left, bottom).
func drawTextUp(img *image.RGBA, left, bottom int, s string, col color.RGBA) {
	if s == "" {
		return
	}
	mask := textMask(s)
	b := mask.Bounds()
	for my := b.Min.Y; my < b.Max.Y; my++ {
		for mx := b.Min.X; mx < b.Max.X; mx++ {
			if mask.AlphaAt(mx, my).A >= 0x80 {
				set(img, image.Pt(left+my, bottom-mx), col)
			}
		}
	}
}

func fill(img *image.RGBA, r image.Rectangle, col color.RGBA) {
	draw.Draw(img, r, image.NewUniform(col), image.Point{}, draw.Src)
}

func set(img *image.RGBA, p image.Point, col color.RGBA) {
	if p.In(img.Bounds()) {
		img.SetRGBA(p.X, p.Y, col)
	}
}

func hline(img *image.RGBA, x0, x1, y int, col color.RGBA) {
	fill(img, image.Rect(min(x0, x1), y, max(x0, x1)+1, y+1), col)
}

func vline(img *image.RGBA, x, y0, y1 int, col color.RGBA) {
	fill(img, image.Rect(x, min(y0, y1), x+1, max(y0, y1)+1), col)
}

// frame draws r's outline on its outermost pixels.
func frame(img *image.RGBA, r image.Rectangle, col color.RGBA) {
	hline(img, r.Min.X, r.Max.X-1, r.Min.Y, col)
	hline(img, r.Min.X, r.Max.X-1, r.Max.Y-1, col)
	vline(img, r.Min.X, r.Min.Y, r.Max.Y-1, col)
	vline(img, r.Max.X-1, r.Min.Y, r.Max.Y-1, col)
}

// pen puts a lineWidth square at p, inside clip.
func pen(img *image.RGBA, clip image.Rectangle, p image.Point, col color.RGBA) {
	fill(img, image.Rect(p.X, p.Y, p.X+lineWidth, p.Y+lineWidth).Sub(image.Pt(lineWidth/2, lineWidth/2)).Intersect(clip), col)
}

// line draws from a to b with Bresenham's algorithm and the pen.
func line(img *image.RGBA, clip image.Rectangle, a, b image.Point, col color.RGBA) {
	dx, dy := abs(b.X-a.X), -abs(b.Y-a.Y)
	sx, sy := sign(b.X-a.X), sign(b.Y-a.Y)
	e := dx + dy
	for p := a; ; {
		pen(img, clip, p, col)
		if p == b {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			p.X += sx
		}
		if e2 <= dx {
			e += dx
			p.Y += sy
		}
	}
}

// dot marks a lone point (one between gaps) so that it shows.
func dot(img *image.RGBA, clip image.Rectangle, p image.Point, col color.RGBA) {
	fill(img, image.Rect(p.X-2, p.Y-2, p.X+2, p.Y+2).Intersect(clip), col)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
