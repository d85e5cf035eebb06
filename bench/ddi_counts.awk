# ddi_counts.awk — label rules per kind and tier (README table): awk -f bench/ddi_counts.awk data/rules/label_ddi.tsv | sort
# kinds: 1 label drug x ingredient, 2 x class, 3 x enzyme/transporter role, 4 x effect role, 5 class-level statement
BEGIN{FS="\t"}
$1=="rule"{
  o=$3; sub(/^examples:/,"",o)
  if ($2 ~ /^class:/) k="5 class-level"
  else if (o ~ /effect:/) k="4 effect"
  else if (o ~ /^role:/) k="3 role"
  else if (o ~ /^class:/) k="2 class"
  else k="1 ingredient"
  n[k" "$6]++
}
END{for (x in n) print x, n[x]}
