package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// goalP50Ms is the median latency the throughput goal is stated at.
const goalP50Ms = 100

// plotCurve draws the throughput–latency curve of a sweep: p50 and p99
// latency against the throughput each run achieved, to a PNG or SVG
// file (by its extension). Latency is on a log scale (a sweep spans tens
// of milliseconds below saturation to seconds past it), with the goal's
// 100 ms median marked; a run that completed nothing has no point.
func plotCurve(path string, rep report) error {
	if len(rep.Runs) == 0 {
		return errors.New("no runs")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Trantor, %d nodes (%s), %d-byte transactions", rep.Nodes, rep.Cluster, rep.Runs[0].TxBytes)
	p.X.Label.Text = "throughput (transactions/s)"
	p.Y.Label.Text = "latency (ms, log scale)"
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, latencyTicks{}
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	var p50, p99 plotter.XYs
	maxX := 0.0
	for _, r := range rep.Runs {
		if r.Throughput <= 0 || r.Latency.P50Ms <= 0 {
			continue
		}
		p50 = append(p50, plotter.XY{X: r.Throughput, Y: r.Latency.P50Ms})
		p99 = append(p99, plotter.XY{X: r.Throughput, Y: max(r.Latency.P99Ms, r.Latency.P50Ms)})
		maxX = max(maxX, r.Throughput)
	}
	if len(p50) == 0 {
		return errors.New("no run completed a transaction")
	}
	goal, err := plotter.NewLine(plotter.XYs{{X: 0, Y: goalP50Ms}, {X: maxX, Y: goalP50Ms}})
	if err != nil {
		return err
	}
	goal.Color = plotutil.Color(2)
	goal.Dashes = []vg.Length{vg.Points(1), vg.Points(3)}
	p.Add(goal)
	p.Legend.Add(fmt.Sprintf("%d ms", goalP50Ms), goal)
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
	p.X.Min = 0
	if ext := strings.ToLower(filepath.Ext(path)); ext != ".png" && ext != ".svg" {
		return fmt.Errorf("want a .png or .svg file, not %q", ext)
	}
	return p.Save(16*vg.Centimeter, 10*vg.Centimeter, path)
}

// latencyTicks marks 1, 2 and 5 times the powers of ten (in ms) on a
// log-scale axis, labelled as plain numbers.
type latencyTicks struct{}

// Ticks returns the ticks between min and max.
func (latencyTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for decade := 1.0; decade <= 1e6; decade *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := m * decade; v >= min && v <= max {
				ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
			}
		}
	}
	return ticks
}
