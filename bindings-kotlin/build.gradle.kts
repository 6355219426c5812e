// Gradle build for JVM consumers of the Kotlin bindings, with the
// maven-publish setup to publish dev.streamrelay:streamrelay.
//
// NOT run by CI (CI reaches package registries, not Maven Central or the
// Gradle plugin portal): CI runs run-tests.sh (the same sources and tests,
// through kotlinc) and package.sh (the same JAR layout and POM, without
// Gradle). Untested as written; adjust versions to your build.
//
//   cargo build --release -p streamrelay-ffi          # from the repository root
//   gradle test                                       # JUnit, against ../target/release
//   gradle publishToMavenLocal                        # ~/.m2: jar (+ native library), sources, POM
//   gradle publish -Pstreamrelay.publishUrl=https://... \
//       -Pstreamrelay.publishUser=... -Pstreamrelay.publishPassword=...
//
// The JAR carries libstreamrelay under JNA's resource path
// (linux-x86-64/, darwin-aarch64/, ...), so an app needs no library path:
// JNA extracts it, and the JNI fast path binds to the same copy. Maven
// Central also wants a javadoc JAR and signed artifacts (the `signing`
// plugin); add them for a release there. Android consumers take an AAR
// instead: see README.md, "Android".
plugins {
    kotlin("jvm") version "2.0.21"
    `java-library`
    `maven-publish`
}

group = "dev.streamrelay"
version = "0.1.0" // = the crates' version (docs/versioning.md)

repositories { mavenCentral() }

dependencies {
    api("net.java.dev.jna:jna:5.13.0")
    // suspend methods and the Node's event Flow (NodeEvents.kt)
    api("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.8.0")
    testImplementation("junit:junit:4.13.2")
}

kotlin { jvmToolchain(17) }

java { withSourcesJar() }

sourceSets {
    named("main") { kotlin.srcDirs("src/main/kotlin") }
    named("test") { kotlin.srcDirs("src/test/kotlin") }
}

// The native library for this machine, from cargo's output, into the JAR.
// -Pstreamrelay.lib=DIR picks another directory (say, a cross build);
// -Pstreamrelay.jnaPrefix=darwin-aarch64 another resource folder.
val libDir = (findProperty("streamrelay.lib") as String?) ?: "$rootDir/../target/release"
val jnaPrefix = (findProperty("streamrelay.jnaPrefix") as String?) ?: run {
    val os = System.getProperty("os.name").lowercase()
    val arch = when (val a = System.getProperty("os.arch")) {
        "amd64", "x86_64" -> "x86-64"
        "aarch64", "arm64" -> "aarch64"
        else -> a
    }
    (if (os.startsWith("mac")) "darwin" else "linux") + "-" + arch
}
val natives = layout.buildDirectory.dir("natives")
val copyNatives by tasks.registering(Copy::class) {
    from(libDir) { include("libstreamrelay.so", "libstreamrelay.dylib") }
    into(natives.map { it.dir(jnaPrefix) })
}
sourceSets.named("main") { resources.srcDir(natives) }
tasks.named("processResources") { dependsOn(copyNatives) }

tasks.test {
    systemProperty("jna.library.path", libDir)
    systemProperty("java.library.path", libDir)
    systemProperty("streamrelay.vectors.dir", "$rootDir/../vectors")
}

publishing {
    publications {
        create<MavenPublication>("maven") {
            artifactId = "streamrelay"
            from(components["java"])
            pom {
                name.set("streamrelay")
                description.set(
                    "Kotlin bindings of libstreamrelay, the Stream Relay v6 (Latica) peer-to-peer " +
                        "protocol as a sans-IO state machine: UniFFI over JNA, and a JNI fast path",
                )
                licenses {
                    license {
                        name.set("MIT")
                        url.set("https://opensource.org/licenses/MIT")
                    }
                    license {
                        name.set("Apache-2.0")
                        url.set("https://www.apache.org/licenses/LICENSE-2.0.txt")
                    }
                }
            }
        }
    }
    repositories {
        val url = findProperty("streamrelay.publishUrl") as String?
        if (url != null) {
            maven {
                name = "release"
                setUrl(url)
                credentials {
                    username = findProperty("streamrelay.publishUser") as String?
                    password = findProperty("streamrelay.publishPassword") as String?
                }
            }
        }
    }
}
