#!/usr/bin/env bash
# The request and wall-time figures of the issue notes: 5 fresh mounts, cold and warm
# `ls -l tencent/tasks` of 1,234 simulated tasks, then a cold and a warm listing of every other
# collection of the four clouds. Uses the mount-test harness (simulator on 127.0.0.1, cleanup by PID).
#   bash contrib/bench/listing-figures.sh
. "$(dirname "$0")/../../tests/mount/lib.sh"
sim_start --tasks 1234 --services 30 --ctyun-queues 250 --baidu-units 12 --alaya-products 10
write_config_all "$T_DIR/c.ini" "ttl = 600"
M=$T_DIR/mnt
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cold=(); warm=(); creq=(); wreq=()
for i in 1 2 3 4 5; do
  gcf_mount "$T_DIR/c.ini" "$M"
  sleep 1.1   # the simulator's 1-second rate window empties
  sim POST counts/reset >/dev/null
  t0=$EPOCHREALTIME; ls -l "$M/tencent/tasks" >/dev/null; t1=$EPOCHREALTIME
  creq+=($(requests DescribeTrainingTasks))
  t2=$EPOCHREALTIME; ls -l "$M/tencent/tasks" >/dev/null; t3=$EPOCHREALTIME
  wreq+=($(( $(requests DescribeTrainingTasks) - ${creq[-1]} )))
  cold+=($(awk -v a=$t0 -v b=$t1 'BEGIN{printf "%.3f", b-a}')); warm+=($(awk -v a=$t2 -v b=$t3 'BEGIN{printf "%.4f", b-a}'))
  gcf_umount "$M"
done
echo "tencent tasks 1234: cold ls -l requests ${creq[*]} times ${cold[*]} median $(printf '%s\n' "${cold[@]}" | med) s"
echo "tencent tasks 1234: warm ls -l requests ${wreq[*]} times ${warm[*]} median $(printf '%s\n' "${warm[@]}" | med) s"
gcf_mount "$T_DIR/c.ini" "$M"
for c in tencent/services:DescribeModelServiceGroups ctyun/queues:queue-info-list baidu/computeunits:DescribeComputeUnits alaya/products:list-for-training-task; do
  d=${c%%:*}; a=${c##*:}
  sim POST counts/reset >/dev/null
  t0=$EPOCHREALTIME; n=$(ls -l "$M/$d" | tail -n +2 | wc -l); t1=$EPOCHREALTIME
  r1=$(requests $a)
  t2=$EPOCHREALTIME; ls -l "$M/$d" >/dev/null; t3=$EPOCHREALTIME
  r2=$(requests $a)
  echo "$d ($n objects): cold $r1 requests $(awk -v a=$t0 -v b=$t1 'BEGIN{printf "%.3f", b-a}') s; warm $((r2-r1)) requests $(awk -v a=$t2 -v b=$t3 'BEGIN{printf "%.4f", b-a}') s"
done
gcf_finish >/dev/null
