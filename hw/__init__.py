"""Hardware generation: HLS C++ (hw.hls), SystemVerilog (hw.rtl), synthesis (hw.synth). No torch here."""
