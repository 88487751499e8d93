// The perl scenario's worker (the "image" it records): a long-running text-processing service reading one job per
// line on stdin (ID TAB KIND TAB ARGS...) and answering each with one line (ID TAB OK|ERR TAB RESULT), loading
// modules as jobs first need them. It has two planted, realistic bugs: `wc` opens its file with two-argument
// open() (a name ending in "|" runs a command: perlopentut's classic injection), and `calc` checks only how an
// expression starts before eval'ing it.

export const PERL_WORKER_SOURCE = String.raw`#!/usr/bin/perl
# A text-processing worker: one job per line on stdin (ID TAB KIND TAB ARGS...), one answer per line on stdout.
use strict;
use warnings;
$| = 1;
my ($data, $out) = @ARGV;
chdir $data or die "cannot enter $data: $!";
my %jobs = (
  upper   => sub { uc $_[0] },
  reverse => sub { scalar reverse $_[0] },
  wc      => \&wc,
  grep    => \&grep_count,
  sort    => \&sort_file,
  md5     => sub { require Digest::MD5; Digest::MD5::md5_hex($_[0]) },
  sha     => sub { require Digest::SHA; Digest::SHA::sha256_hex($_[0]) },
  b64     => sub { require MIME::Base64; MIME::Base64::encode_base64($_[0], '') },
  csv     => \&csv_sum,
  json    => \&to_json,
  date    => sub { require POSIX; POSIX::strftime('%Y-%m-%dT%H:%M:%S', gmtime($_[0])) },
  stat    => sub { my @s = stat $_[0] or die "no such file\n"; "$s[7] $s[9]" },
  write   => \&write_out,
  calc    => \&calc,
  list    => \&list_dir,
  gzip    => \&gzip_file,
);
while (my $line = <STDIN>) {
  chomp $line;
  my ($id, $kind, @args) = split /\t/, $line, -1;
  my $job = $jobs{$kind // ''};
  if (!$job) { print "$id\tERR\tunknown job\n"; next; }
  my $result = eval { $job->(@args) };
  if ($@) { (my $e = $@) =~ s/\s+/ /g; print "$id\tERR\t$e\n"; }
  else { $result //= ''; $result =~ s/[\t\n]/ /g; print "$id\tOK\t$result\n"; }
}

sub wc {
  my ($file) = @_;
  open(my $fh, $file) or die "cannot open $file\n";    # two-argument open: the file name is trusted (it is not)
  my ($l, $w, $c) = (0, 0, 0);
  while (<$fh>) { $l++; $c += length; $w += () = /\S+/g; }
  close $fh;
  "$l $w $c";
}

sub grep_count {
  my ($pattern, $file) = @_;
  open(my $fh, '<', $file) or die "cannot open $file\n";
  my $n = grep { /\Q$pattern\E/i } <$fh>;
  close $fh;
  $n;
}

sub sort_file {
  my ($file, $n) = @_;
  open(my $fh, '<', $file) or die "cannot open $file\n";
  my %seen;
  my @lines = grep { !$seen{$_}++ } sort map { lc } <$fh>;
  close $fh;
  chomp @lines;
  join ',', map { substr($_, 0, 12) } @lines[0 .. ($n < @lines ? $n - 1 : $#lines)];
}

sub csv_sum {
  my ($file, $col) = @_;
  open(my $fh, '<', $file) or die "cannot open $file\n";
  my $sum = 0;
  <$fh>;
  while (<$fh>) { chomp; my @f = split /,/; $sum += $f[$col] // 0; }
  close $fh;
  $sum;
}

sub to_json {
  require JSON::PP;
  my %h = map { split /=/, $_, 2 } @_;
  JSON::PP->new->canonical->encode(\%h);
}

sub write_out {
  my ($name, $text) = @_;
  die "bad name\n" unless $name =~ /^[\w.-]+$/;
  open(my $fh, '>>', "$out/$name") or die "cannot write $name\n";
  print $fh "$text\n";
  close $fh;
  -s "$out/$name";
}

sub calc {
  my ($expr) = @_;
  die "not arithmetic\n" unless $expr =~ /^[\d\s+*\/().-]+/;    # checks how it starts, not all of it
  my $v = eval $expr;
  die "bad expression\n" if $@;
  $v;
}

sub list_dir {
  my ($dir) = @_;
  opendir(my $dh, $dir) or die "cannot list $dir\n";
  my @names = sort grep { !/^\./ } readdir $dh;
  closedir $dh;
  scalar(@names) . ' ' . join(',', @names[0 .. ($#names < 4 ? $#names : 4)]);
}

sub gzip_file {
  my ($file) = @_;
  require IO::Compress::Gzip;
  my $z;
  IO::Compress::Gzip::gzip($file => \$z) or die "gzip failed\n";
  length $z;
}
`;
