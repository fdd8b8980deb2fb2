fn main() {
    let m = convqa::model::ngram::solution();
    for t in std::env::args().skip(1) {
        println!("{:.3}\t{t}", m.score(&t));
    }
}
