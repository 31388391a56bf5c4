# make bench: the Flower paper's Figure 4 for secagg (gnuplot -e "out='DIR'" bench/fig4.gp).
# Reads DIR/fig4-n-d{0,5}.dat and DIR/fig4-length-d{0,5}.dat (bench/bench.py report): columns
# x, server CPU s, server wall s, client CPU ms, MB per client. Writes DIR/fig4-n.png and
# DIR/fig4-length.png, three panels each as in the paper: server time, client time, data per client.
if (!exists("out")) out = "bench/out"
set terminal pngcairo size 1500,440 font "DejaVu Sans,10"
set datafile commentschars "#"
set key top left
set grid
set yrange [0:*]
set style line 1 lc rgb "#1f77b4" lw 2 pt 7 ps 0.8
set style line 2 lc rgb "#d62728" lw 2 pt 5 ps 0.8
set style line 3 lc rgb "#1f77b4" lw 1 dt 2 pt 6 ps 0.6
set style line 4 lc rgb "#d62728" lw 1 dt 2 pt 4 ps 0.6

do for [sweep in "n length"] {
  d0 = sprintf("%s/fig4-%s-d0.dat", out, sweep)
  d5 = sprintf("%s/fig4-%s-d5.dat", out, sweep)
  set output sprintf("%s/fig4-%s.png", out, sweep)
  if (sweep eq "n") {
    xl = "number of clients n (length 100,000)"; tag = "a"
  } else {
    xl = "vector length (n = 100)"; tag = "d"
  }
  set multiplot layout 1,3 title sprintf("secagg-sim, SecAgg+ with 51 shares (k = 50 neighbours), t = 26, R = 2^{24}: Flower's Figure 4%s-%s", tag, sweep eq "n" ? "c" : "f")
  set xlabel xl
  set format x (sweep eq "n" ? "%.0f" : "%.0s%c")
  set title "server time"
  set ylabel "seconds"
  plot d0 u 1:2 w lp ls 1 t "CPU, 0% dropouts", d5 u 1:2 w lp ls 2 t "CPU, 5% dropouts", \
       d0 u 1:3 w lp ls 3 t "wall, 0%", d5 u 1:3 w lp ls 4 t "wall, 5%"
  set title "client CPU time (all rounds)"
  set ylabel "milliseconds"
  plot d0 u 1:4 w lp ls 1 t "0% dropouts", d5 u 1:4 w lp ls 2 t "5% dropouts"
  set title "data sent + received per client"
  set ylabel "MB"
  plot d0 u 1:5 w lp ls 1 t "0% dropouts", d5 u 1:5 w lp ls 2 t "5% dropouts"
  unset multiplot
}
