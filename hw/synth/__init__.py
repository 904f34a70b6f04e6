"""`make synth`: open synthesis (yosys 7-series, ECP5 nextpnr + ecppack), vendor TCL, power estimate."""
