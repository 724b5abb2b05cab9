// Package testenv runs a real etcd + kube-apiserver pair (the kube-testenv
// binary) on loopback for carbonkube's integration tests, with the
// credentials a cluster operator would hand the host: a CA, an HTTPS serving
// certificate, a system:masters client certificate and a static bearer token,
// each written into its own kubeconfig.
package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Credentials are the files one environment's apiserver and clients use.
type Credentials struct {
	CACert        string // CA that signed the serving and client certificates
	ServingCert   string // apiserver's HTTPS certificate (127.0.0.1, localhost)
	ServingKey    string
	ClientCert    string // CN=carbonkube-admin, O=system:masters
	ClientKey     string
	TokenFile     string // --token-auth-file CSV
	Token         string // the bearer token in TokenFile (system:masters)
	ServiceKey    string // service-account signing key (private)
	ServicePubKey string
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}

func newKey() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	return key, der, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// GenerateCredentials writes a fresh CA, serving and client certificates,
// a token file and a service-account key pair into dir.
func GenerateCredentials(dir string) (*Credentials, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	creds := &Credentials{
		CACert:        filepath.Join(dir, "ca.crt"),
		ServingCert:   filepath.Join(dir, "apiserver.crt"),
		ServingKey:    filepath.Join(dir, "apiserver.key"),
		ClientCert:    filepath.Join(dir, "admin.crt"),
		ClientKey:     filepath.Join(dir, "admin.key"),
		TokenFile:     filepath.Join(dir, "tokens.csv"),
		ServiceKey:    filepath.Join(dir, "sa.key"),
		ServicePubKey: filepath.Join(dir, "sa.pub"),
	}
	now := time.Now().Add(-time.Hour)
	caKey, _, err := newKey()
	if err != nil {
		return nil, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "carbonkube-test-ca"},
		NotBefore:             now,
		NotAfter:              now.Add(10 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	if err := writePEM(creds.CACert, "CERTIFICATE", caDER); err != nil {
		return nil, err
	}

	issue := func(template *x509.Certificate, certPath, keyPath string) error {
		key, keyDER, err := newKey()
		if err != nil {
			return err
		}
		der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
		if err != nil {
			return fmt.Errorf("certificate %s: %w", certPath, err)
		}
		if err := writePEM(certPath, "CERTIFICATE", der); err != nil {
			return err
		}
		return writePEM(keyPath, "EC PRIVATE KEY", keyDER)
	}
	if err := issue(&x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now,
		NotAfter:     now.Add(10 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}, creds.ServingCert, creds.ServingKey); err != nil {
		return nil, err
	}
	if err := issue(&x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "carbonkube-admin", Organization: []string{"system:masters"}},
		NotBefore:    now,
		NotAfter:     now.Add(10 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, creds.ClientCert, creds.ClientKey); err != nil {
		return nil, err
	}

	token := make([]byte, 24)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	creds.Token = fmt.Sprintf("%x", token)
	// token,user,uid,"group1,group2" (kube-apiserver --token-auth-file).
	line := fmt.Sprintf("%s,carbonkube-token-user,carbonkube-token-uid,\"system:masters\"\n", creds.Token)
	if err := os.WriteFile(creds.TokenFile, []byte(line), 0o600); err != nil {
		return nil, err
	}

	saKey, saDER, err := newKey()
	if err != nil {
		return nil, err
	}
	if err := writePEM(creds.ServiceKey, "EC PRIVATE KEY", saDER); err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := writePEM(creds.ServicePubKey, "PUBLIC KEY", pubDER); err != nil {
		return nil, err
	}
	return creds, nil
}

// WriteKubeconfig writes a kubeconfig for server authenticating either with
// the client certificate (token == "") or the bearer token.
func WriteKubeconfig(path, server string, creds *Credentials, token string) error {
	user := fmt.Sprintf("    client-certificate: %s\n    client-key: %s\n", creds.ClientCert, creds.ClientKey)
	name := "admin-cert"
	if token != "" {
		user = fmt.Sprintf("    token: %s\n", token)
		name = "admin-token"
	}
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: carbonkube-test
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: %s
  user:
%scontexts:
- name: %s
  context:
    cluster: carbonkube-test
    user: %s
current-context: %s
`, server, creds.CACert, name, user, name, name, name)
	return os.WriteFile(path, []byte(text), 0o600)
}
