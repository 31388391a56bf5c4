# make bench: the server's time per round in the protocol paper's case, full SecAgg with n = 500
# (gnuplot -e "out='DIR'" bench/full.gp). Reads DIR/full-rounds.dat (bench/bench.py report),
# writes DIR/full-rounds.png: one stacked bar per dropout rate.
if (!exists("out")) out = "bench/out"
set terminal pngcairo size 760,480 font "DejaVu Sans,10" noenhanced
set output sprintf("%s/full-rounds.png", out)
set title "secagg-sim, full SecAgg, n = 500, length 100,000, t = 251: the server's wall time per round"
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set key inside left top
set grid y
set yrange [0:*]
set ylabel "seconds (wall, 2 threads)"
set xlabel "clients dropped before sending their masked input"
plot sprintf("%s/full-rounds.dat", out) u 2:xtic(1) t "round 0 (keys)" lc rgb "#9467bd", \
     "" u 3 t "round 1 (shares)" lc rgb "#8c564b", \
     "" u 4 t "round 2 (sum the masked inputs)" lc rgb "#1f77b4", \
     "" u 5 t "round 4: recover_secrets (Shamir)" lc rgb "#d62728", \
     "" u 6 t "round 4: remove_masks" lc rgb "#2ca02c", \
     "" u 7 t "round 4: the rest" lc rgb "#7f7f7f"
