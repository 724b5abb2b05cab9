package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ckscore with its defaults selects the nodes `carbonkube score` selects for
// the same inputs and seed, and prints the same per-plugin scores.
func TestMatchesCLI(t *testing.T) {
	bin := os.Getenv("CARBONKUBE_CLI")
	if bin == "" {
		t.Fatal("CARBONKUBE_CLI is not set: it must name build/bin/carbonkube (examples/go/run.sh sets it)")
	}
	repo, err := filepath.Abs("../../../..")
	if err != nil {
		t.Fatal(err)
	}
	signals, err := filepath.Glob(filepath.Join(repo, "data/carbon/electricitymaps/*.csv"))
	if err != nil || len(signals) == 0 {
		t.Fatalf("signals: %v %v", signals, err)
	}
	for _, seed := range []uint64{0, 99} {
		var stdout, stderr bytes.Buffer
		if err := run([]string{"-repo", repo, "-json", "-seed", fmt.Sprint(seed)}, &stdout, &stderr); err != nil {
			t.Fatalf("ckscore: %v\n%s", err, stderr.String())
		}
		var got struct{ Results []Outcome }
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatal(err)
		}

		args := []string{"score", "--nodes", "examples/cluster/nodes.json", "--pods", "examples/cluster/pods.yaml",
			"--cnrs", "examples/cluster/cnrs.yaml", "--zones", "examples/config/zones.yaml",
			"--at", "2023-07-15T18:00:00Z", "--seed", fmt.Sprint(seed)}
		for _, s := range signals {
			args = append(args, "--signals", s)
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir = repo
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
		}
		var want struct {
			Results []struct {
				Pod      string  `json:"pod"`
				Selected *string `json:"selected"`
				Nodes    []struct {
					Name   string           `json:"name"`
					Scores map[string]int64 `json:"scores"`
					Total  *int64           `json:"total"`
				} `json:"nodes"`
			} `json:"results"`
		}
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatal(err)
		}
		if len(got.Results) != len(want.Results) || len(got.Results) == 0 {
			t.Fatalf("seed %d: ckscore scored %d pods, the CLI %d", seed, len(got.Results), len(want.Results))
		}
		var lines []string
		for i, w := range want.Results {
			g := got.Results[i]
			if g.Pod != w.Pod || str(g.Selected) != str(w.Selected) {
				t.Errorf("seed %d pod %d: ckscore %s -> %s, CLI %s -> %s", seed, i, g.Pod, str(g.Selected), w.Pod, str(w.Selected))
				continue
			}
			lines = append(lines, g.Pod+" -> "+str(g.Selected))
			for _, n := range w.Nodes {
				if w.Selected == nil || n.Name != *w.Selected {
					continue
				}
				if n.Total == nil || *n.Total != g.Total {
					t.Errorf("%s: total %d, CLI %v", g.Pod, g.Total, n.Total)
				}
				scores := map[string]int64{}
				for _, s := range g.Scores {
					scores[s.Plugin] = s.Score
				}
				if fmt.Sprint(scores) != fmt.Sprint(n.Scores) {
					t.Errorf("%s on %s: scores %v, CLI %v", g.Pod, n.Name, scores, n.Scores)
				}
			}
		}
		t.Logf("seed %d, same as the CLI: %s", seed, strings.Join(lines, ", "))
	}
}

func str(s *string) string {
	if s == nil {
		return "(none)"
	}
	return *s
}

func TestBadInputExitsWithError(t *testing.T) {
	var stdout, stderr bytes.Buffer
	repo, _ := filepath.Abs("../../../..")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("kind: ZoneMap\nregions: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run([]string{"-repo", repo, "-zones", bad}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "CK_ERROR_INVALID_INPUT") || !strings.Contains(err.Error(), "zone_map") {
		t.Fatalf("err = %v", err)
	}
	if err := run([]string{"-repo", repo, "-nodes", "no/such/file.json"}, &stdout, &stderr); err == nil {
		t.Fatal("a missing file is not an error")
	}
}
