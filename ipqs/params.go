package ipqs

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Params are optional API parameters by name, with values in canonical form.
// Build them with Params.Set so every value is validated.
type Params map[string]string

// paramType is the type of a parameter's value.
type paramType int

const (
	paramInt paramType = iota
	paramBool
	paramText
)

// ParamSpec describes one optional parameter of an IPQS API.
type ParamSpec struct {
	Name string
	Type paramType
	// Min and Max bound an integer parameter, inclusive.
	Min, Max int
}

// Form returns the value form shown in usage and error messages.
func (s ParamSpec) Form() string {
	switch s.Type {
	case paramInt:
		return fmt.Sprintf("%s=%d-%d", s.Name, s.Min, s.Max)
	case paramBool:
		return s.Name + "=true"
	default:
		return s.Name + `="…"`
	}
}

// maxTextParam bounds a text parameter such as user_agent.
const maxTextParam = 512

// specs lists every optional parameter of each API, from IPQualityScore's
// API documentation.
var specs = map[Kind][]ParamSpec{
	KindIP: {
		{Name: "strictness", Type: paramInt, Min: 0, Max: 3},
		{Name: "user_agent", Type: paramText},
		{Name: "user_language", Type: paramText},
		{Name: "fast", Type: paramBool},
		{Name: "mobile", Type: paramBool},
		{Name: "allow_public_access_points", Type: paramBool},
		{Name: "lighter_penalties", Type: paramBool},
		{Name: "transaction_strictness", Type: paramInt, Min: 0, Max: 2},
	},
	KindURL: {
		{Name: "strictness", Type: paramInt, Min: 0, Max: 2},
		{Name: "fast", Type: paramBool},
		{Name: "timeout", Type: paramInt, Min: 1, Max: 10},
	},
	KindEmail: {
		{Name: "fast", Type: paramBool},
		{Name: "timeout", Type: paramInt, Min: 1, Max: 60},
		{Name: "suggest_domain", Type: paramBool},
		{Name: "strictness", Type: paramInt, Min: 0, Max: 2},
		{Name: "abuse_strictness", Type: paramInt, Min: 0, Max: 2},
	},
}

// Specs returns the optional parameters of the API of kind k.
func Specs(k Kind) []ParamSpec { return slices.Clone(specs[k]) }

// Set validates value for the parameter name of the API of kind k and stores
// it in canonical form. The error message names the parameter and its valid
// form, and is fit to show to a user.
func (p Params) Set(k Kind, name, value string) error {
	i := slices.IndexFunc(specs[k], func(s ParamSpec) bool { return s.Name == name })
	if i < 0 {
		names := make([]string, 0, len(specs[k]))
		for _, s := range specs[k] {
			names = append(names, s.Name)
		}
		return fmt.Errorf("unknown parameter %q for %s lookups; valid parameters: %s", name, k, strings.Join(names, ", "))
	}
	spec := specs[k][i]

	switch spec.Type {
	case paramInt:
		n, err := strconv.Atoi(value)
		if err != nil || n < spec.Min || n > spec.Max {
			return fmt.Errorf("invalid value %q for %s: use a whole number from %d to %d, for example %s=%d", value, name, spec.Min, spec.Max, name, spec.Min)
		}
		p[name] = strconv.Itoa(n)
	case paramBool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("invalid value %q for %s: use true or false", value, name)
		}
		p[name] = strconv.FormatBool(b)
	default:
		if value == "" || len(value) > maxTextParam {
			return fmt.Errorf("invalid value for %s: use 1 to %d characters in quotes, for example %s=\"Mozilla/5.0\"", name, maxTextParam, name)
		}
		p[name] = value
	}
	return nil
}

// Key returns a canonical encoding of p, equal for equal parameter sets, for
// use in cache keys.
func (p Params) Key() string { return p.values().Encode() }

// values returns p as query parameters.
func (p Params) values() url.Values {
	v := make(url.Values, len(p))
	for name, value := range p {
		v.Set(name, value)
	}
	return v
}

// intParam returns the integer parameter name, or def when p lacks it.
func (p Params) intParam(name string, def int) int {
	if n, err := strconv.Atoi(p[name]); err == nil {
		return n
	}
	return def
}
