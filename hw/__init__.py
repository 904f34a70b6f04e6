"""Hardware generation: HLS C++ (hw.hls), SystemVerilog (hw.rtl), synthesis flows (hw.synth). No torch here."""
