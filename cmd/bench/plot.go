package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// plotCurve draws the throughput–latency curve of a sweep: p50 and p99
// latency against the throughput each run achieved, to a PNG or SVG
// file (by its extension).
func plotCurve(path string, rep report) error {
	if len(rep.Runs) == 0 {
		return errors.New("no runs")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Trantor, %d nodes (%s), %d-byte transactions", rep.Nodes, rep.Cluster, rep.Runs[0].TxBytes)
	p.X.Label.Text = "throughput (transactions/s)"
	p.Y.Label.Text = "latency (ms)"
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	p50, p99 := make(plotter.XYs, len(rep.Runs)), make(plotter.XYs, len(rep.Runs))
	for i, r := range rep.Runs {
		p50[i] = plotter.XY{X: r.Throughput, Y: r.Latency.P50Ms}
		p99[i] = plotter.XY{X: r.Throughput, Y: r.Latency.P99Ms}
	}
	for i, line := range []struct {
		name string
		xys  plotter.XYs
	}{{"p50", p50}, {"p99", p99}} {
		l, pts, err := plotter.NewLinePoints(line.xys)
		if err != nil {
			return err
		}
		l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		if i == 1 {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(l, pts)
		p.Legend.Add(line.name, l, pts)
	}
	p.X.Min, p.Y.Min = 0, 0
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".png" && ext != ".svg" {
		return fmt.Errorf("want a .png or .svg file, not %q", ext)
	}
	return p.Save(16*vg.Centimeter, 10*vg.Centimeter, path)
}
