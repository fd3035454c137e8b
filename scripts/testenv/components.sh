# shellcheck shell=bash
# components lists the component scripts of the test stack, one name a line:
# kube first, then the others in name order. Sourced by up.sh and down.sh;
# not a component itself (it takes no up|down|status).
components() {
	local f name
	[[ -f scripts/testenv/kube.sh ]] && echo kube
	for f in scripts/testenv/*.sh; do
		name=$(basename "$f" .sh)
		case $name in
		kube | up | down | components | _* | lib* | *-lib) continue ;;
		esac
		echo "$name"
	done
}
