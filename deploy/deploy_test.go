// Package deploy_test checks the example Kubernetes manifests.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// manifest is the part of a Kubernetes object the tests read.
type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Template struct {
			Spec struct {
				SecurityContext struct {
					RunAsNonRoot *bool `yaml:"runAsNonRoot"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type container struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Env   []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	EnvFrom []struct {
		SecretRef struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	LivenessProbe  probe `yaml:"livenessProbe"`
	ReadinessProbe probe `yaml:"readinessProbe"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port int    `yaml:"port"`
	} `yaml:"httpGet"`
}

// load parses every document of every YAML file in the folder.
func load(t *testing.T) map[string]manifest {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no YAML files found")
	}
	objects := make(map[string]manifest)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var m manifest
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if m.Kind == "" || m.Metadata.Name == "" {
				t.Errorf("%s: a document without kind or metadata.name", file)
				continue
			}
			objects[m.Kind+"/"+m.Metadata.Name] = m
		}
	}
	return objects
}

func TestManifestsHaveEveryObject(t *testing.T) {
	objects := load(t)
	for _, name := range []string{"Deployment/ipqsbot", "Deployment/ipqsbot-redis", "Service/ipqsbot-redis", "Secret/ipqsbot"} {
		if _, ok := objects[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
}

func TestBotDeployment(t *testing.T) {
	d, ok := load(t)["Deployment/ipqsbot"]
	if !ok {
		t.Fatal("no Deployment/ipqsbot")
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas = %v, want 2", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if nonRoot := pod.SecurityContext.RunAsNonRoot; nonRoot == nil || !*nonRoot {
		t.Error("securityContext.runAsNonRoot is not true")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("containers = %d, want 1", len(pod.Containers))
	}

	c := pod.Containers[0]
	env := make(map[string]string)
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if got := env["METRICS_ADDR"]; got != "0.0.0.0:9090" {
		t.Errorf("METRICS_ADDR = %q, want 0.0.0.0:9090", got)
	}
	if got := env["REDIS_URL"]; got != "redis://ipqsbot-redis:6379/0" {
		t.Errorf("REDIS_URL = %q, want the ipqsbot-redis Service", got)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name != "ipqsbot" {
		t.Errorf("envFrom = %+v, want the ipqsbot Secret", c.EnvFrom)
	}
	if p := c.LivenessProbe.HTTPGet; p.Path != "/healthz" || p.Port != 9090 {
		t.Errorf("liveness probe = %s on %d, want /healthz on 9090", p.Path, p.Port)
	}
	if p := c.ReadinessProbe.HTTPGet; p.Path != "/readyz" || p.Port != 9090 {
		t.Errorf("readiness probe = %s on %d, want /readyz on 9090", p.Path, p.Port)
	}
}

func TestRedisRunsAsNonRoot(t *testing.T) {
	d, ok := load(t)["Deployment/ipqsbot-redis"]
	if !ok {
		t.Fatal("no Deployment/ipqsbot-redis")
	}
	if nonRoot := d.Spec.Template.Spec.SecurityContext.RunAsNonRoot; nonRoot == nil || !*nonRoot {
		t.Error("securityContext.runAsNonRoot is not true")
	}
}
