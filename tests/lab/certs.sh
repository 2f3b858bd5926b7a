# tests/lab/certs.sh: a throwaway CA and leaf certificates for lab hosts
# (sourced by sh).  Everything is made with openssl, fast (EC keys except
# where an RSA leaf is asked for), and lives only in the given directory.
#
#   . "$TOP/tests/lab/certs.sh"
#   certs_ca DIR                  DIR/ca.key ca.pem (root, EC P-256) and
#                                 DIR/int.key int.pem (intermediate, P-256)
#   certs_leaf DIR NAME ALG HOST...
#                                 a leaf for HOST... (first one is the CN)
#                                 signed by DIR/int.key:
#                                   DIR/NAME.key        private key
#                                   DIR/NAME.pem        leaf only
#                                   DIR/NAME.chain.pem  leaf + intermediate
#                                 ALG: rsa (2048), rsa3072, rsa4096, ec
#                                 (P-256), p384, ed25519, rsapss (RSA-PSS
#                                 2048 restricted to SHA-256, salt 32)
#
# Both return non-zero with a message on stderr when openssl fails.  The
# certificates are valid for 30 days from now.  The functions keep their
# state in global variables named _cs_* (plain sh has no locals).

_certs_err() { echo "certs.sh: $*" >&2; return 1; }

# _certs_key ALG FILE: a fresh private key, PEM, mode 0600.
_certs_key() {
	case $1 in
	rsa | rsa2048) set -- "$2" -algorithm RSA -pkeyopt rsa_keygen_bits:2048 ;;
	rsa3072) set -- "$2" -algorithm RSA -pkeyopt rsa_keygen_bits:3072 ;;
	rsa4096) set -- "$2" -algorithm RSA -pkeyopt rsa_keygen_bits:4096 ;;
	ec | p256) set -- "$2" -algorithm EC -pkeyopt ec_paramgen_curve:P-256 ;;
	p384) set -- "$2" -algorithm EC -pkeyopt ec_paramgen_curve:P-384 ;;
	ed25519) set -- "$2" -algorithm ED25519 ;;
	rsapss) set -- "$2" -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 \
		-pkeyopt rsa_pss_keygen_md:sha256 -pkeyopt rsa_pss_keygen_mgf1_md:sha256 \
		-pkeyopt rsa_pss_keygen_saltlen:32 ;;
	*) _certs_err "unknown key algorithm $1 (rsa, rsa3072, rsa4096, ec, p384, ed25519, rsapss)"; return 1 ;;
	esac
	_cs_f=$1; shift
	(umask 077 && openssl genpkey "$@" -out "$_cs_f" 2>"$_cs_f.err") ||
		{ _certs_err "openssl genpkey $* failed: $(cat "$_cs_f.err")"; rm -f "$_cs_f.err"; return 1; }
	rm -f "$_cs_f.err"
}

certs_ca() {
	_cs_d=$1
	[ -n "$_cs_d" ] || { _certs_err "usage: certs_ca DIR"; return 1; }
	mkdir -p "$_cs_d" || { _certs_err "cannot create $_cs_d"; return 1; }
	_certs_key ec "$_cs_d/ca.key" || return 1
	_certs_key ec "$_cs_d/int.key" || return 1
	cat > "$_cs_d/ca.ext" <<-'EOF'
	[ca]
	basicConstraints = critical, CA:true
	keyUsage = critical, keyCertSign, cRLSign
	subjectKeyIdentifier = hash
	[int]
	basicConstraints = critical, CA:true, pathlen:0
	keyUsage = critical, keyCertSign, cRLSign
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid:always
	[leaf]
	basicConstraints = critical, CA:false
	keyUsage = critical, digitalSignature, keyEncipherment
	extendedKeyUsage = serverAuth
	subjectKeyIdentifier = hash
	authorityKeyIdentifier = keyid:always
	EOF
	openssl req -new -key "$_cs_d/ca.key" -subj "/O=tlsa-tools lab/CN=Lab Root CA" \
		-out "$_cs_d/ca.csr" 2>"$_cs_d/err" &&
	openssl x509 -req -in "$_cs_d/ca.csr" -signkey "$_cs_d/ca.key" -days 30 \
		-set_serial "0x$(openssl rand -hex 8)" -extfile "$_cs_d/ca.ext" -extensions ca \
		-out "$_cs_d/ca.pem" 2>>"$_cs_d/err" &&
	openssl req -new -key "$_cs_d/int.key" -subj "/O=tlsa-tools lab/CN=Lab Intermediate E1" \
		-out "$_cs_d/int.csr" 2>>"$_cs_d/err" &&
	openssl x509 -req -in "$_cs_d/int.csr" -CA "$_cs_d/ca.pem" -CAkey "$_cs_d/ca.key" -days 30 \
		-set_serial "0x$(openssl rand -hex 8)" -extfile "$_cs_d/ca.ext" -extensions int \
		-out "$_cs_d/int.pem" 2>>"$_cs_d/err" ||
		{ _certs_err "making the CA in $_cs_d failed: $(cat "$_cs_d/err")"; return 1; }
	rm -f "$_cs_d/ca.csr" "$_cs_d/int.csr" "$_cs_d/err"
}

certs_leaf() {
	[ $# -ge 4 ] || { _certs_err "usage: certs_leaf DIR NAME ALG HOST..."; return 1; }
	_cs_d=$1 _cs_name=$2 _cs_alg=$3
	shift 3
	[ -f "$_cs_d/int.pem" ] && [ -f "$_cs_d/int.key" ] || { _certs_err "$_cs_d: no CA (run certs_ca first)"; return 1; }
	_cs_cn=$1
	_cs_san=""
	for _cs_h in "$@"; do _cs_san="${_cs_san:+$_cs_san, }DNS:$_cs_h"; done
	_certs_key "$_cs_alg" "$_cs_d/$_cs_name.key" || return 1
	{ sed -n '/^\[leaf\]/,$p' "$_cs_d/ca.ext"; echo "subjectAltName = $_cs_san"; } > "$_cs_d/$_cs_name.ext"
	openssl req -new -key "$_cs_d/$_cs_name.key" -subj "/CN=$_cs_cn" -out "$_cs_d/$_cs_name.csr" 2>"$_cs_d/$_cs_name.err" &&
	openssl x509 -req -in "$_cs_d/$_cs_name.csr" -CA "$_cs_d/int.pem" -CAkey "$_cs_d/int.key" -days 30 \
		-set_serial "0x$(openssl rand -hex 8)" -extfile "$_cs_d/$_cs_name.ext" -extensions leaf \
		-out "$_cs_d/$_cs_name.pem" 2>>"$_cs_d/$_cs_name.err" ||
		{ _certs_err "making the $_cs_alg leaf $_cs_name for $* failed: $(cat "$_cs_d/$_cs_name.err")"; return 1; }
	cat "$_cs_d/$_cs_name.pem" "$_cs_d/int.pem" > "$_cs_d/$_cs_name.chain.pem" ||
		{ _certs_err "cannot write $_cs_d/$_cs_name.chain.pem"; return 1; }
	rm -f "$_cs_d/$_cs_name.csr" "$_cs_d/$_cs_name.err" "$_cs_d/$_cs_name.ext"
}
