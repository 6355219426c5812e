// Gradle build for JVM and Android consumers of the Kotlin bindings.
//
// NOT exercised by CI (CI has no Maven Central): CI runs run-tests.sh,
// which compiles the same sources with kotlinc and runs the same JUnit
// tests. Untested as written; adjust versions to your build.
//
//   gradle test -Pstreamrelay.lib=/path/to/dir/with/libstreamrelay.so
//
// For Android, move these sources into an Android library module
// (com.android.library), put libstreamrelay.so per ABI under
// src/main/jniLibs/<abi>/, and depend on "net.java.dev.jna:jna:5.13.0@aar"
// instead of the plain jar.
plugins {
    kotlin("jvm") version "2.0.21"
}

group = "dev.streamrelay"
version = "0.1.0"

repositories { mavenCentral() }

dependencies {
    implementation("net.java.dev.jna:jna:5.13.0")
    testImplementation("junit:junit:4.13.2")
}

kotlin { jvmToolchain(17) }

sourceSets {
    named("main") { kotlin.srcDirs("src/main/kotlin") }
    named("test") { kotlin.srcDirs("src/test/kotlin") }
}

tasks.test {
    val lib = (findProperty("streamrelay.lib") as String?) ?: "${rootDir}/../target/debug"
    systemProperty("jna.library.path", lib)
    systemProperty("java.library.path", lib)
    systemProperty("streamrelay.vectors.dir", "${rootDir}/../vectors")
}
